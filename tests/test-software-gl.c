/* test-software-gl.c — OpenGL stays off where only software would draw it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs on a private Xvfb (with-display.sh), which has no GPU: GTK 4.8
 * would load Mesa's software rasterizer and libLLVM as it opens the
 * display, unless Natter turns OpenGL off first.
 */
#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "natter-software-gl.h"
#include "natter-test-util.h"

/* A folder standing in for /dev, holding @nodes (paths inside it). */
static char *
make_dev_dir (const char * const *nodes)
{
  g_autoptr(GError) error = NULL;
  char *dev = g_dir_make_tmp ("natter-dev-XXXXXX", &error);

  g_assert_no_error (error);
  for (guint i = 0; nodes[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dev, nodes[i], NULL);
      g_autofree char *parent = g_path_get_dirname (path);

      g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
      g_assert_true (g_file_set_contents (path, "", 0, NULL));
    }
  return dev;
}

static gboolean
likely_with (const char * const *nodes)
{
  g_autofree char *dev = make_dev_dir (nodes);
  gboolean likely = natter_software_gl_is_likely (dev);

  natter_test_remove_tree (dev);
  return likely;
}

static void
test_devices (void)
{
  g_unsetenv ("LIBGL_ALWAYS_SOFTWARE");
  g_assert_true (likely_with ((const char *[]) { NULL }));
  /* A display controller without 3D (simpledrm, a virtual card). */
  g_assert_true (likely_with ((const char *[]) { "dri/card0", NULL }));
  g_assert_false (likely_with ((const char *[]) { "dri/card0", "dri/renderD128", NULL }));
  g_assert_false (likely_with ((const char *[]) { "nvidiactl", "nvidia0", NULL }));

  g_setenv ("LIBGL_ALWAYS_SOFTWARE", "1", TRUE);
  g_assert_true (likely_with ((const char *[]) { "dri/renderD128", NULL }));
  g_unsetenv ("LIBGL_ALWAYS_SOFTWARE");
}

static gboolean
machine_has_gpu (void)
{
  return !natter_software_gl_is_likely ("/dev");
}

/* What GTK mapped into this process on opening the display. */
static gboolean
opengl_loaded (void)
{
  static const char * const libraries[] = { "libEGL_mesa", "libGLX_mesa", "_dri.so", "libLLVM" };
  g_autofree char *maps = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (libraries); i++)
    if (strstr (maps, libraries[i]) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_display_without_opengl (void)
{
  if (machine_has_gpu () || gtk_get_minor_version () >= 14)
    {
      g_test_skip ("OpenGL is drawn by a GPU here, or GTK declines software GL itself");
      return;
    }
  if (g_test_subprocess ())
    {
      g_unsetenv ("GDK_DEBUG");
      g_unsetenv ("GSK_RENDERER");
      natter_software_gl_avoid ();
      g_assert_cmpstr (g_getenv ("GDK_DEBUG"), ==, "gl-disable");
      gtk_init ();
      g_assert_false (opengl_loaded ());
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Without Natter's choice, this display would have loaded software GL:
 * proof that the test above looks at the right thing. */
static void
test_display_with_opengl (void)
{
  if (machine_has_gpu () || gtk_get_minor_version () >= 14)
    {
      g_test_skip ("OpenGL is drawn by a GPU here, or GTK declines software GL itself");
      return;
    }
  if (g_test_subprocess ())
    {
      g_unsetenv ("GDK_DEBUG");
      g_unsetenv ("GSK_RENDERER");
      gtk_init ();
      g_assert_true (opengl_loaded ());
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
test_users_choice_kept (void)
{
  g_unsetenv ("GDK_DEBUG");
  g_setenv ("GSK_RENDERER", "ngl", TRUE);
  natter_software_gl_avoid ();
  g_assert_null (g_getenv ("GDK_DEBUG"));
  g_unsetenv ("GSK_RENDERER");

  /* Cairo draws without OpenGL: that choice agrees with turning it off. */
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  natter_software_gl_avoid ();
  g_assert_cmpstr (g_getenv ("GDK_DEBUG"), ==,
                   machine_has_gpu () || gtk_get_minor_version () >= 14 ? NULL : "gl-disable");
  g_unsetenv ("GSK_RENDERER");
  g_unsetenv ("GDK_DEBUG");

  g_setenv ("GDK_DEBUG", "interactive", TRUE);
  natter_software_gl_avoid ();
  g_assert_cmpstr (g_getenv ("GDK_DEBUG"), ==, "interactive");
  g_unsetenv ("GDK_DEBUG");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/natter/software-gl/devices", test_devices);
  g_test_add_func ("/natter/software-gl/display-without-opengl", test_display_without_opengl);
  g_test_add_func ("/natter/software-gl/display-with-opengl", test_display_with_opengl);
  g_test_add_func ("/natter/software-gl/users-choice-kept", test_users_choice_kept);

  return g_test_run ();
}
