// SPDX-License-Identifier: GPL-2.0-only
/* struct xvd's helpers that belong to no one resource. */
#include <stdio.h>

#include "loader/kern/xvd.h"

int xvd_save(struct xvd *d, const struct xvd_config *cfg, char *err,
	     size_t errlen)
{
	if (!d->save) {
		snprintf(err, errlen, "no state directory: nothing saved");
		return -1;
	}
	return d->save(d, cfg, err, errlen);
}
