// SPDX-License-Identifier: GPL-2.0-only
/* The counters file: lib/statsfile.h. */
#include <stdarg.h>
#include <stdio.h>

#include "lib/statsfile.h"

void xv_stats_write(const char *path, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "w");
	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	if (fclose(f) == 0)
		rename(tmp, path);
}
