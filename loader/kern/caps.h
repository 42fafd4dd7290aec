/* SPDX-License-Identifier: GPL-2.0-only */
/* The capabilities xvnetd runs with (it starts as root, keeps a few). */
#ifndef XVNET_LOADER_KERN_CAPS_H
#define XVNET_LOADER_KERN_CAPS_H

#include <stddef.h>

/* Which of the capabilities an operation needs are not effective:
 * " (missing CAP_NET_RAW, CAP_IPC_LOCK)" or "" (caps: CAP_* numbers). */
const char *caps_missing_hint(const int *caps, size_t n);
/* Keep only the capabilities xvnetd uses while it runs (the rest leave the
 * effective, permitted and, where CAP_SETPCAP allows, bounding sets). */
int caps_drop_unused(char *err, size_t errlen);

#endif
