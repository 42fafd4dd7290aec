// SPDX-License-Identifier: GPL-2.0-only
/* The host's CPUs: see lib/cpus.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cpus.h"

int xv_possible_cpus(void)
{
	char buf[256], *last;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	int hi = -1;

	/* "0-3", "0", "0-1,4-7": the last number is the highest CPU */
	if (f && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		last = strrchr(buf, '-');
		if (!last || strrchr(buf, ',') > last)
			last = strrchr(buf, ',');
		if (sscanf(last ? last + 1 : buf, "%d", &hi) != 1)
			hi = -1;
	}
	if (f)
		fclose(f);
	if (hi >= 0)
		return hi + 1;
	return (int)sysconf(_SC_NPROCESSORS_CONF);
}
