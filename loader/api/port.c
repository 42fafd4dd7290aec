// SPDX-License-Identifier: GPL-2.0-only
/* port.list: each VM's port, its state, and whether the port map names it. */
#include <net/if.h>
#include <bpf/bpf.h>
#include <json-c/json.h>

#include "lib/proto.h"
#include "loader/api/request.h"
#include "loader/kern/netdev.h"

static struct json_object *port_list(struct xvd *d)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->cfg.n_vms; i++) {
		const struct vm_conf *vm = &d->cfg.vms[i];
		struct json_object *o = json_object_new_object();
		char state[32];
		__u32 id = (__u32)vm->id, mif = 0;
		int ifindex = (int)if_nametoindex(vm->ifname);

		if (vm->fallback)       /* no device: the host stack reaches it */
			snprintf(state, sizeof(state), "host-stack");
		else
			netdev_state(vm->ifname, state, sizeof(state));
		bpf_map_lookup_elem(d->m.ports, &id, &mif);
		json_object_object_add(o, "ifname", json_object_new_string(vm->ifname));
		json_object_object_add(o, "ifindex", json_object_new_int(ifindex));
		json_object_object_add(o, "kind", json_object_new_string(vm_port_name(vm)));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "vm", json_object_new_string(vm->name));
		json_object_object_add(o, "queues", json_object_new_int(vm->queues));
		json_object_object_add(o, "owned", json_object_new_boolean(vm->owned));
		json_object_object_add(o, "in_map", json_object_new_boolean(
					       ifindex && mif == (__u32)ifindex));
		json_object_array_add(arr, o);
	}
	return xv_reply_ok(arr);
}

API_NOARGS(port_list)

const struct api_cmd port_cmds[] = {
	{ "port.list", cmd_port_list, false },
	{ NULL, NULL, false },
};
