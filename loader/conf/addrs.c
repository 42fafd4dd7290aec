// SPDX-License-Identifier: GPL-2.0-only
/*
 * A VM's source addresses ("ip ADDR", repeatable) and anti-spoofing
 * allowances ("allow LIST", "no-allow LIST") as configured, and the check
 * that an address belongs to one VM per VLAN.  Writing them to the maps:
 * loader/kern/addrs.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "lib/parse.h"
#include "loader/conf/config.h"

static bool addr_usable(const uint8_t a[16], const char **why)
{
	static const uint8_t zero[16];

	if (xv_ip_is_v4mapped(a)) {
		const uint8_t *v4 = a + 12;

		if (!(v4[0] | v4[1] | v4[2] | v4[3]))
			return *why = "is the unspecified address", false;
		if (v4[0] >= 224 && v4[0] <= 239)
			return *why = "is a multicast address", false;
		if (v4[0] == 255 && v4[1] == 255 && v4[2] == 255 && v4[3] == 255)
			return *why = "is the broadcast address", false;
		return true;
	}
	if (memcmp(a, zero, 16) == 0)
		return *why = "is the unspecified address", false;
	if (a[0] == 0xff)
		return *why = "is a multicast address", false;
	return true;
}

int vm_conf_add_addr(struct vm_conf *vm, const char *val, char *err,
		     size_t errlen)
{
	uint8_t a[16];
	const char *why;
	bool v4;

	if (xv_parse_ip("ip", val, a, &v4, err, errlen))
		return -1;
	if (!addr_usable(a, &why))
		return ERR("ip: '%.64s' %s", val, why);
	for (int i = 0; i < vm->n_addrs; i++)
		if (memcmp(vm->addrs[i], a, 16) == 0)
			return ERR("ip: '%.64s' given twice", val);
	if (vm->n_addrs >= XVNET_MAX_VM_ADDRS)
		return ERR("ip: more than %d addresses", XVNET_MAX_VM_ADDRS);
	memcpy(vm->addrs[vm->n_addrs++], a, 16);
	return 0;
}

static const struct {
	const char *name;
	uint32_t bit;
} allows[] = {
#define XVNET_X_ALLOW(e, name, desc) { name, XVNET_VM_F_ALLOW_##e },
	XVNET_VM_ALLOWS(XVNET_X_ALLOW)
#undef XVNET_X_ALLOW
};

int vm_conf_set_allow(struct vm_conf *vm, const char *key, const char *val,
		      bool on, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	uint32_t bits = 0;

	if (strlen(val) >= sizeof(buf))
		return ERR("%s: '%.64s...' too long", key, val);
	strcpy(buf, val);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		if (strcmp(tok, "all") == 0) {
			bits |= XVNET_VM_ALLOW_ALL;
			continue;
		}
		for (i = 0; i < sizeof(allows) / sizeof(allows[0]); i++)
			if (strcmp(tok, allows[i].name) == 0)
				break;
		if (i == sizeof(allows) / sizeof(allows[0])) {
			char names[128];

			vm_allow_format(XVNET_VM_ALLOW_ALL, names, sizeof(names));
			return ERR("%s: '%.64s' is not an allowance (%s, all)", key,
				   tok, names);
		}
		bits |= allows[i].bit;
	}
	if (!bits)
		return ERR("%s: needs a list of allowances", key);
	vm->allow = on ? vm->allow | bits : vm->allow & ~bits;
	return 0;
}

void vm_allow_format(uint32_t bits, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(allows) / sizeof(allows[0]); i++)
		if ((bits & allows[i].bit) && n < len)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "",
					      allows[i].name);
}

int config_check_vm_addrs(const struct xvd_config *cfg,
			  const struct vm_conf *vm, long skip, char *err,
			  size_t errlen)
{
	for (size_t i = 0; i < cfg->n_vms; i++) {
		const struct vm_conf *o = &cfg->vms[i];

		if ((long)i == skip || o->vlan != vm->vlan ||
		    strcmp(o->name, vm->name) == 0)
			continue;
		for (int a = 0; a < vm->n_addrs; a++)
			for (int b = 0; b < o->n_addrs; b++)
				if (memcmp(vm->addrs[a], o->addrs[b], 16) == 0) {
					char ip[46];

					xv_fmt_ip(vm->addrs[a], ip, sizeof(ip));
					return ERR("ip: '%s' already used on vlan %u"
						   " by vm '%s'", ip, vm->vlan,
						   o->name);
				}
	}
	return 0;
}
