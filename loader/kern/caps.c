// SPDX-License-Identifier: GPL-2.0-only
/* The process's capabilities: which an operation misses, and keeping only
 * those xvnetd uses once it runs (see loader/kern/caps.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "lib/err.h"
#include "loader/kern/caps.h"
#include "loader/kern/log.h"

/* ---- capabilities ------------------------------------------------------- */

static const char *cap_name(int cap)
{
	switch (cap) {
	case CAP_NET_RAW: return "CAP_NET_RAW";
	case CAP_IPC_LOCK: return "CAP_IPC_LOCK";
	case CAP_NET_ADMIN: return "CAP_NET_ADMIN";
	case CAP_SYS_ADMIN: return "CAP_SYS_ADMIN";
	case CAP_BPF: return "CAP_BPF";
	case CAP_PERFMON: return "CAP_PERFMON";
	case CAP_SYS_PTRACE: return "CAP_SYS_PTRACE";
	case CAP_CHOWN: return "CAP_CHOWN";
	case CAP_SETUID: return "CAP_SETUID";
	case CAP_SETGID: return "CAP_SETGID";
	case CAP_KILL: return "CAP_KILL";
	default: return "CAP_?";
	}
}

const char *caps_missing_hint(const int *caps, size_t n)
{
	static char buf[128];
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2] = { { 0 } };
	size_t len = 0;

	buf[0] = '\0';
	/* capget(2) directly: one syscall does not need libcap */
	if (syscall(SYS_capget, &h, c))
		return buf;
	for (size_t i = 0; i < n; i++) {
		if (c[caps[i] / 32].effective & (1u << (caps[i] % 32)))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					len ? ", " : " (missing ", cap_name(caps[i]));
		if (len >= sizeof(buf))
			break;
	}
	if (len && len + 1 < sizeof(buf))
		strcat(buf, ")");
	return buf;
}

/* ---- privileges after start-up ------------------------------------------ */

/*
 * What xvnetd does while it runs, and the capability each needs: load,
 * attach and pin programs and maps (BPF, PERFMON, SYS_ADMIN), create and
 * configure ports and enter VM namespaces (NET_ADMIN, SYS_ADMIN), open
 * AF_XDP sockets and pin their UMEM (NET_RAW, IPC_LOCK), take the frames a
 * stopped VMM left in its tap queue (SYS_PTRACE, loader/kern/rescue.c), run
 * the vhost-user back-ends, which give their socket to the VM's owner and
 * then drop to that user or nobody (CHOWN, SETUID, SETGID, inherited by
 * them), and stop them once they run as that user (KILL).
 */
static const int kept_caps[] = {
	CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW,
	CAP_IPC_LOCK, CAP_SYS_PTRACE, CAP_CHOWN, CAP_SETUID, CAP_SETGID, CAP_KILL,
};

static bool cap_kept(int cap)
{
	for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
		if (kept_caps[i] == cap)
			return true;
	return false;
}

static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

int caps_drop_unused(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2] = { { 0 } };
	int last = cap_last(), dropped = 0;

	if (syscall(SYS_capget, &h, c))
		return ERR("capget: %s", strerror(errno));
	for (int cap = 0; cap <= last && cap < 64; cap++) {
		uint32_t bit = 1u << (cap % 32);

		if (cap_kept(cap))
			continue;
		/* out of the bounding set: nothing this process execs regains it */
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			dropped++;
		c[cap / 32].effective &= ~bit;
		c[cap / 32].permitted &= ~bit;
		c[cap / 32].inheritable &= ~bit;
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &h, c))
		return ERR("capset: %s", strerror(errno));
	{
		char kept[256];
		size_t len = 0;

		kept[0] = '\0';
		for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++)
			len += (size_t)snprintf(kept + len, sizeof(kept) - len, "%s%s",
						i ? ", " : "", cap_name(kept_caps[i]) + 4);
		log_info("capabilities: kept %s (where held); %d others dropped from"
			 " the bounding set", kept, dropped);
	}
	return 0;
}
