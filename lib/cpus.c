// SPDX-License-Identifier: GPL-2.0-only
/* The host's CPUs: see lib/cpus.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/cpus.h"
#include "lib/parse.h"
#include "maps/xvnet_maps.h"

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

int xv_parse_cpu_list(const char *field, const char *s, uint8_t *out, size_t cap,
		      size_t *n, char *err, size_t errlen)
{
	int ncpus = xv_possible_cpus();

	if (xv_parse_num_list(field, s, UINT8_MAX, "CPU", out, cap, n, err, errlen))
		return -1;
	if (ncpus <= 0 || ncpus > XVNET_MAX_CPUS)
		ncpus = XVNET_MAX_CPUS;
	for (size_t i = 0; i < *n; i++)
		if (out[i] >= ncpus) {
			snprintf(err, errlen, "%s: CPU %u does not exist (CPUs 0-%d)", field,
				 out[i], ncpus - 1);
			return -1;
		}
	return 0;
}
