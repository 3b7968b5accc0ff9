/* main.c — starts Natter
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "natter-application.h"
#include "natter-environment.h"
#include "natter-software-gl.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(NatterApplication) application = NULL;

  natter_environment_init_i18n ();
  natter_software_gl_avoid ();

  application = natter_application_new ();
  return g_application_run (G_APPLICATION (application), argc, argv);
}
