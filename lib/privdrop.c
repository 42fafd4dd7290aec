// SPDX-License-Identifier: GPL-2.0-only
/* Dropping privileges for good: lib/privdrop.h. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/privdrop.h"

int xv_drop_privileges(const char *user, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	char *end;
	unsigned long n = strtoul(user, &end, 10);
	uid_t uid;
	gid_t gid;

	/* a number with no name is a uid of its own, gid the same number */
	if (!pw && user[0] >= '0' && user[0] <= '9' && !*end && n < 0x7fffffff)
		pw = getpwuid((uid_t)n);
	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else if (user[0] >= '0' && user[0] <= '9' && !*end && n < 0x7fffffff) {
		uid = (uid_t)n;
		gid = (gid_t)n;
	} else {
		snprintf(err, errlen, "no user '%s'", user);
		return -1;
	}
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid)) {
		snprintf(err, errlen, "%s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "privileges not dropped");
		return -1;
	}
	return 0;
}
