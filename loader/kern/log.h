/* SPDX-License-Identifier: GPL-2.0-only */
/* xvnetd logging: stderr in the foreground, syslog otherwise. */
#ifndef XVNET_LOADER_LOG_H
#define XVNET_LOADER_LOG_H

#include <stdbool.h>

enum xv_log_level { XV_LOG_ERR, XV_LOG_WARN, XV_LOG_INFO, XV_LOG_DEBUG };

void xv_log_init(bool to_stderr, int level);
int xv_log_level_parse(const char *s);  /* -1 if unknown */
void xv_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)   xv_log(XV_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  xv_log(XV_LOG_WARN, __VA_ARGS__)
#define log_info(...)  xv_log(XV_LOG_INFO, __VA_ARGS__)
#define log_debug(...) xv_log(XV_LOG_DEBUG, __VA_ARGS__)

#endif
