// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "loader/kern/log.h"

static bool log_stderr = true;
static int log_level = XV_LOG_INFO;
static const char *const names[] = { "err", "warn", "info", "debug" };
static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void xv_log_init(bool to_stderr, int level)
{
	log_stderr = to_stderr;
	log_level = level;
	if (!to_stderr)
		openlog("xvnetd", LOG_PID, LOG_DAEMON);
}

int xv_log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void xv_log(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_stderr && getenv("JOURNAL_STREAM"))    /* systemd: keep levels */
		fprintf(stderr, "<%d>%s: %s\n", prio[level], names[level], msg);
	else if (log_stderr)
		fprintf(stderr, "xvnetd: %s: %s\n", names[level], msg);
	else
		syslog(prio[level], "%s", msg);
}
