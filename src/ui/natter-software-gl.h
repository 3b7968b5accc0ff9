/* natter-software-gl.h — no OpenGL where only a software rasterizer offers it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean natter_software_gl_is_likely (const char *dev_dir);
void     natter_software_gl_avoid     (void);

G_END_DECLS
