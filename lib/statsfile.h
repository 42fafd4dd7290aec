/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The counters file of the consumers and sinks (--stats FILE): one line,
 * rewritten whole (a temporary file renamed over it), so that a reader
 * never sees half a line and the file's mtime is when the counts were
 * taken (selftests/bench/bench.sh reads both).
 */
#ifndef XVNET_LIB_STATSFILE_H
#define XVNET_LIB_STATSFILE_H

/* Write the printf-formatted text to PATH.tmp and rename it to PATH;
 * failures are silent (the next write tries again). */
void xv_stats_write(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
