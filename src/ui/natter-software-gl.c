/* natter-software-gl.c — no OpenGL where only a software rasterizer offers it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Without a GPU, OpenGL is Mesa's software rasterizer: it brings libLLVM,
 * about 50 MB of Natter's resident memory, and draws text no faster than
 * cairo does on the CPU. GTK 4.14 and later notice this themselves and do
 * not render with it. GTK 4.8 to 4.12 set OpenGL up as soon as they open an
 * X11 display, before any renderer is chosen, so the choice has to be made
 * before GTK starts: with no GPU device to draw on, OpenGL is turned off as
 * GDK_DEBUG=gl-disable does. A GDK_DEBUG set by the user, or a renderer
 * other than cairo in GSK_RENDERER, is their choice and is left alone.
 *
 * Programs Natter starts (a browser, for a link) inherit the setting; they
 * run on the same machine without a GPU.
 */
#include "config.h"

#include <gtk/gtk.h>

#include "natter-software-gl.h"

static gboolean
has_render_node (const char *dri_dir)
{
  g_autoptr(GDir) dir = g_dir_open (dri_dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "renderD"))
      return TRUE;
  return FALSE;
}

/**
 * natter_software_gl_is_likely:
 * @dev_dir: where the device nodes are: "/dev"
 *
 * Whether OpenGL here would be drawn by the CPU: there is no DRM render
 * node (a GPU's, or a virtual machine's with 3D) and no NVIDIA device, or
 * Mesa is told to draw in software.
 *
 * Returns: %TRUE if OpenGL would be software-rendered
 */
gboolean
natter_software_gl_is_likely (const char *dev_dir)
{
  g_autofree char *dri_dir = g_build_filename (dev_dir, "dri", NULL);
  g_autofree char *nvidia = g_build_filename (dev_dir, "nvidiactl", NULL);

  if (g_strcmp0 (g_getenv ("LIBGL_ALWAYS_SOFTWARE"), "1") == 0)
    return TRUE;
  return !has_render_node (dri_dir) && !g_file_test (nvidia, G_FILE_TEST_EXISTS);
}

/**
 * natter_software_gl_avoid:
 *
 * Turns OpenGL off when GTK would set it up in software and is too old to
 * decline it. Call before GTK is initialized, and before any thread starts
 * (it changes the environment).
 */
void
natter_software_gl_avoid (void)
{
  const char *renderer = g_getenv ("GSK_RENDERER");

  if (gtk_get_major_version () != 4 || gtk_get_minor_version () >= 14)
    return;
  if (g_getenv ("GDK_DEBUG") != NULL || (renderer != NULL && g_strcmp0 (renderer, "cairo") != 0))
    return;
  if (natter_software_gl_is_likely ("/dev"))
    g_setenv ("GDK_DEBUG", "gl-disable", FALSE);
}
