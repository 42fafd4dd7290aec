/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Become an unprivileged user for good, once the fds that carry the rights
 * are held (the xsk consumers: xvnet-xskdump, xvnet-vhost).
 */
#ifndef XVNET_LIB_PRIVDROP_H
#define XVNET_LIB_PRIVDROP_H

#include <stddef.h>

/* No supplementary groups, USER's gid and uid; checked that root cannot
 * be regained.  0, or -1 with the reason in err. */
int xv_drop_privileges(const char *user, char *err, size_t errlen);

#endif
