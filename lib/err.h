/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The error convention of xvnetd's code: a function that can fail takes
 * (char *err, size_t errlen), writes the reason there and returns -1, so
 * that the caller can pass the sentence on unchanged (to a reply, a log).
 * ERR() is that in one expression, for functions whose parameters are
 * named err and errlen; ERR_RC() returns rc instead of -1 (an -errno).
 */
#ifndef XVNET_LIB_ERR_H
#define XVNET_LIB_ERR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

static inline int xv_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int xv_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

#define ERR(...) xv_err(err, errlen, __VA_ARGS__)
#define ERR_RC(rc, ...) (xv_err(err, errlen, __VA_ARGS__), (rc))

#endif
