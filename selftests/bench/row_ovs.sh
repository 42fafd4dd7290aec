# shellcheck shell=bash
# shellcheck disable=SC2034  # STATS, DROPS, FWD_EXTRA_PIDS: read by bench.sh
# shellcheck disable=SC2153  # SOCK, CTL, NIC...: set by bench.sh
# Open vSwitch pairs for bench.sh (sourced by it): xvnet against the peer a
# user would pick for fast VM networking without SR-IOV, OVS's userspace
# datapath with an AF_XDP NIC port, on the same NIC, port kind and consumer.
#
#   pair_ovs_veth: NIC (afxdp) -> OVS -> host end of the VM's veth (afxdp);
#                  counted by xvnet-xdpsink on the far end in namespace $V.
#   pair_ovs_tap:  NIC (afxdp) -> OVS -> a tap added as an ordinary (system)
#                  port; read by xvnet-tapread (io_uring) as in the tap pair.
#
# Both OVS and xvnetd own the NIC's XDP, so the arms cannot be swapped in
# place: each round stops one and starts the other (OVS from a fresh
# private run directory: its own database from `ovsdb-tool create`,
# sockets, pid files, logs; xvnetd from a fresh state directory), so the
# rounds are tens of seconds apart instead of a few.  One configuration:
# the PMD thread on $OVS_PMD_CPU (default RX_CPU, where xvnet's forwarding
# runs: the NIC's NAPI thread and the PMD share that core, the generator and
# the consumers keep the other), the single OpenFlow rule
# in_port=NIC,actions=output:VM (OVS's best case).  The PMD thread's run
# time counts as forwarding time (it busy-polls: its core is always 100%
# busy, so its ns per frame falls as the rate rises).  The afxdp ports ask
# for xdp-mode=best-effort; the mode OVS settled on is recorded.
# docs/bench/ovs.md has the earlier configuration sweep.
#
#   pair_ovs_vhost: NIC (afxdp) -> OVS-DPDK -> a dpdkvhostuserclient port
#                  served by xvnet-vhostsink --listen (the same receive-only
#                  vhost-user front-end as the vhost pair); against a
#                  vhost-user VM (xvnetd runs its xvnet-vhost; 2048-entry
#                  RX rings, libbpf's default size) -> xvnet-vhostsink.
#                  OVS here is
#                  Debian's openvswitch-switch-dpdk (ovs-vswitchd-dpdk, its
#                  path given: installing it adds an alternative, the plain
#                  binary is also taken by its path for the rows above),
#                  DPDK's EAL with OVS_DPDK_EXTRA: no hugepages on this
#                  kernel, so --no-huge, which DPDK 22.11 runs as
#                  --legacy-mem; OVS adds --in-memory unless --legacy-mem
#                  is given, and the two are refused together ("Option
#                  --legacy-mem is not compatible with --in-memory"), so
#                  --legacy-mem is explicit and --no-shconf keeps
#                  what --in-memory would (no shared config files); the
#                  EAL still makes /var/run/dpdk/PREFIX (its own
#                  --file-prefix), removed with OVS.  Forwarding time: OVS's PMD thread
#                  (which also copies into the guest's buffers) against the
#                  NIC's NAPI thread plus xvnet-vhost.
#
# If OVS is missing or cannot run, the pair records
# {"pair":"ovs-veth","skipped":"<reason>"} and returns.

OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
OVS_PMD_CPU=${OVS_PMD_CPU:-$RX_CPU}
OVS_RUN=""
OVS_VSWITCHD_PLAIN=${OVS_VSWITCHD_PLAIN:-/usr/lib/openvswitch-switch/ovs-vswitchd}
OVS_VSWITCHD_DPDK=${OVS_VSWITCHD_DPDK:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_DPDK_EXTRA=${OVS_DPDK_EXTRA:---no-huge --legacy-mem --no-shconf -m 1024 --no-pci}
OVS_DPDK_RUNDIR=/var/run/dpdk    # the EAL's runtime directories (root)

# ovs_vswitchd: the binary for OVS_KIND (vhost: the DPDK build)
ovs_vswitchd() {
	if [ "$OVS_KIND" = vhost ]; then
		echo "$OVS_VSWITCHD_DPDK"
	elif [ -x "$OVS_VSWITCHD_PLAIN" ]; then
		echo "$OVS_VSWITCHD_PLAIN"
	else
		command -v ovs-vswitchd
	fi
}

# Everything OVS runs with: default paths all point into the private dir.
# (an env command line, not a function, so bg_start/setsid can run it)
ovs_env() {
	env OVS_RUNDIR="$OVS_RUN" OVS_LOGDIR="$OVS_RUN" OVS_DBDIR="$OVS_RUN" \
		OVS_SYSCONFDIR="$OVS_RUN" "$@"
}
ovs_envv() {
	OVS_ENVV=(env "OVS_RUNDIR=$OVS_RUN" "OVS_LOGDIR=$OVS_RUN" "OVS_DBDIR=$OVS_RUN" "OVS_SYSCONFDIR=$OVS_RUN")
}
ovs_vsctl()  { ovs_env ovs-vsctl --db="unix:$OVS_RUN/db.sock" --timeout=20 "$@"; }
ovs_appctl() { ovs_env ovs-appctl -t "$OVS_RUN/ovs-vswitchd.ctl" --timeout=10 "$@"; }
ovs_ofctl()  { local cmd=$1; shift; ovs_env ovs-ofctl --timeout=10 "$cmd" "unix:$OVS_RUN/$OVS_BR.mgmt" "$@"; }

# ovs_skip ROW REASON: the row's result is "skipped", with the reason.
ovs_skip() {
	record "$(python3 -c 'import json,sys; print(json.dumps({"pair": sys.argv[1], "skipped": sys.argv[2]}))' "$1" "$2")"
}

# ovs_prereq: print why OVS cannot run here (nothing if it can).
ovs_prereq() {
	local c
	for c in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl ovs-appctl; do
		command -v "$c" >/dev/null 2>&1 || { echo "missing command $c (Debian: openvswitch-switch)"; return; }
	done
	[ -r "$OVS_SCHEMA" ] || { echo "missing $OVS_SCHEMA"; return; }
	if [ "$OVS_KIND" = vhost ]; then
		[ -x "$OVS_VSWITCHD_DPDK" ] ||
			{ echo "missing $OVS_VSWITCHD_DPDK (Debian: openvswitch-switch-dpdk)"; return; }
		if [ ! -x "$XV_BIN/xvnet-vhost" ] || [ ! -x "$XV_BIN/xvnet-vhostsink" ]; then
			echo "xvnet-vhost or xvnet-vhostsink not built"
			return
		fi
	fi
	"$(ovs_vswitchd)" --version 2>/dev/null | grep -q 'Open vSwitch' || echo "$(ovs_vswitchd) --version failed"
}

# ovs_log_tail FILE: the last lines of a log, on one line, for a reason.
ovs_log_tail() { tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//' | cut -c1-400; }

# ovs_start: ovsdb-server and ovs-vswitchd from a fresh private directory,
# a netdev bridge with the NIC as an afxdp port.  On failure: OVS_ERR set,
# return 1 (ovs_stop, registered here, undoes what was done).
ovs_start() {
	OVS_ERR=""
	local vswitchd; vswitchd=$(ovs_vswitchd)
	OVS_VERSION=$("$vswitchd" --version | sed -n '1s/.* //p')
	OVS_DPDK_VERSION=$("$vswitchd" --version | sed -n 's/^DPDK //p')
	OVS_RUN=$XV_TMP/ovs
	OVS_BR=$(xv_name obr)
	OVS_BPFFS_XDP_EXISTED=0
	[ -d /sys/fs/bpf/xdp ] && OVS_BPFFS_XDP_EXISTED=1
	rm -rf "$OVS_RUN"
	mkdir -p "$OVS_RUN"
	ovs_envv
	cleanup_add ovs_stop
	ovsdb-tool create "$OVS_RUN/conf.db" "$OVS_SCHEMA" >"$OVS_RUN/ovsdb-tool.log" 2>&1 ||
		{ OVS_ERR="ovsdb-tool create failed: $(ovs_log_tail "$OVS_RUN/ovsdb-tool.log")"; return 1; }
	bg_start "$OVS_RUN/ovsdb-server.out" "${OVS_ENVV[@]}" ovsdb-server "$OVS_RUN/conf.db" \
		--remote="punix:$OVS_RUN/db.sock" --pidfile="$OVS_RUN/ovsdb-server.pid" \
		--unixctl="$OVS_RUN/ovsdb-server.ctl" --log-file="$OVS_RUN/ovsdb-server.log"
	OVSDB_PID=$BG_PID
	wait_until 10 test -S "$OVS_RUN/db.sock" ||
		{ OVS_ERR="ovsdb-server did not start: $(ovs_log_tail "$OVS_RUN/ovsdb-server.out")"; return 1; }
	ovs_vsctl --no-wait init || { OVS_ERR="ovs-vsctl init failed"; return 1; }
	# The PMD's core is set before any port exists (ovs_pmd_cpu moves it).
	ovs_vsctl --no-wait set Open_vSwitch . "other_config:pmd-cpu-mask=$(printf 0x%x $((1 << OVS_PMD_CPU)))"
	OVS_DPDK_PREFIX=""
	if [ -n "$OVS_DPDK_VERSION" ]; then
		OVS_DPDK_PREFIX=$(xv_name dpdk)
		OVS_DPDK_RUNDIR_EXISTED=0
		[ -d "$OVS_DPDK_RUNDIR" ] && OVS_DPDK_RUNDIR_EXISTED=1
		ovs_vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
			"other_config:dpdk-extra=$OVS_DPDK_EXTRA --file-prefix=$OVS_DPDK_PREFIX"
	fi
	bg_start "$OVS_RUN/ovs-vswitchd.out" "${OVS_ENVV[@]}" "$vswitchd" "unix:$OVS_RUN/db.sock" \
		--pidfile="$OVS_RUN/ovs-vswitchd.pid" --unixctl="$OVS_RUN/ovs-vswitchd.ctl" \
		--log-file="$OVS_RUN/ovs-vswitchd.log"
	OVSVS_PID=$BG_PID
	if ! wait_until 10 ovs_appctl version; then
		OVS_ERR="ovs-vswitchd did not start: $(ovs_log_tail "$OVS_RUN/ovs-vswitchd.out")"
		[ -n "$OVS_DPDK_VERSION" ] && OVS_ERR=$(ovs_dpdk_err)
		return 1
	fi
	# the EAL may be set up after the control socket answers: wait for it
	if [ -n "$OVS_DPDK_VERSION" ] && ! wait_until 20 ovs_dpdk_ready; then
		OVS_ERR=$(ovs_dpdk_err)
		return 1
	fi
	ovs_vsctl add-br "$OVS_BR" -- set bridge "$OVS_BR" datapath_type=netdev >"$OVS_RUN/vsctl.log" 2>&1 ||
		{ OVS_ERR="add-br (datapath_type=netdev) failed: $(ovs_log_tail "$OVS_RUN/vsctl.log")"; return 1; }
	# the bridge's internal port is a tap in the root namespace: no addresses
	ip link set dev "$OVS_BR" addrgenmode none 2>/dev/null || true
	ovs_add_afxdp "$NIC" || return 1
	OVS_NIC_MODE=$OVS_MODE
}

# ovs_dpdk_ready: ovs-vswitchd says DPDK is initialised
ovs_dpdk_ready() { [ "$(ovs_vsctl get Open_vSwitch . dpdk_initialized 2>/dev/null)" = true ]; }
# ovs_dpdk_err: why not, from the EAL's first errors in ovs-vswitchd's log
ovs_dpdk_err() {
	echo "DPDK not initialised (dpdk-extra=$OVS_DPDK_EXTRA): $(grep -E '\|dpdk\|(ERR|EMER)\|' \
		"$OVS_RUN/ovs-vswitchd.log" | head -n 3 | sed 's/^[^|]*|[0-9]*|//' | tr '\n' ' ' | cut -c1-400)"
}

# ovs_add_afxdp DEV: DEV as an afxdp port (best mode the device allows);
# sets OVS_MODE to the mode OVS chose.
ovs_add_afxdp() {
	local dev=$1 err
	ovs_vsctl add-port "$OVS_BR" "$dev" -- set interface "$dev" type="${OVS_AFXDP_TYPE:-afxdp}" \
		options:xdp-mode=best-effort options:n_rxq=1 >"$OVS_RUN/vsctl.log" 2>&1 ||
		{ OVS_ERR="add-port $dev type=afxdp failed: $(ovs_log_tail "$OVS_RUN/vsctl.log")"; return 1; }
	err=$(ovs_vsctl get interface "$dev" error 2>/dev/null)
	if [ -n "$err" ] && [ "$err" != "[]" ]; then
		OVS_ERR="afxdp port $dev: $err"
		return 1
	fi
	# dpctl/show: "port 2: DEV (afxdp: ..., xdp-mode-in-use=native)"
	OVS_MODE=$(ovs_appctl dpctl/show | sed -n "s/.*: $dev (.*xdp-mode-in-use=\([a-z-]*\).*/\1/p")
	OVS_MODE=${OVS_MODE:-unknown}
	log "ovs: $dev is an afxdp port, $OVS_MODE mode"
}

# ovs_pmd_cpu CPU: move the PMD thread (rx queues of all afxdp ports) to CPU.
ovs_pmd_cpu() {
	ovs_vsctl set Open_vSwitch . "other_config:pmd-cpu-mask=$(printf 0x%x $((1 << $1)))"
	[ "${OVS_AFXDP_TYPE:-afxdp}" = afxdp ] || return 0   # no port polled by a PMD
	wait_until 10 ovs_pmd_on "$1" || fail "ovs: the PMD thread did not move to core $1"
}
ovs_pmd_on() {
	local out
	out=$(ovs_appctl dpif-netdev/pmd-rxq-show) || return 1
	grep -q "core_id $1:" <<<"$out" && ! grep -q "core_id [^$1]" <<<"$out"
}

# ovs_flows MODE VMPORT: the OpenFlow table for MODE (in_port | normal).
ovs_flows() {
	local mode=$1 vm=$2 nicp vmp
	nicp=$(ovs_vsctl get interface "$NIC" ofport)
	vmp=$(ovs_vsctl get interface "$vm" ofport)
	ovs_ofctl del-flows || fail "ovs-ofctl del-flows"
	case $mode in
	in_port) ovs_ofctl add-flow "in_port=$nicp,actions=output:$vmp" || fail "ovs-ofctl add-flow in_port" ;;
	normal)
		ovs_ofctl add-flow "actions=NORMAL" || fail "ovs-ofctl add-flow NORMAL"
		# the VM's MAC is known, as the bridge rows' static fdb entry
		ovs_appctl fdb/add "$OVS_BR" "$vm" 0 "$VM_MAC" >/dev/null || fail "ovs fdb/add"
		;;
	*) fail "ovs: unknown flows mode $mode" ;;
	esac
	# start each combination from an empty datapath flow table
	ovs_appctl dpctl/del-flows >/dev/null 2>&1 || true
}

# ovs_stop: delete the bridge (OVS removes its XDP programs), stop both
# daemons, and remove whatever is left: XDP on the NIC, promiscuous mode, the
# run directory.  Idempotent; also registered as a cleanup.
ovs_stop() {
	[ -n "$OVS_RUN" ] || return 0
	if [ -S "$OVS_RUN/ovs-vswitchd.ctl" ]; then
		ovs_vsctl del-br "$OVS_BR" >/dev/null 2>&1 || true
		ovs_appctl exit --cleanup >/dev/null 2>&1 || true
	fi
	[ -n "${OVSVS_PID:-}" ] && proc_stop "$OVSVS_PID"
	if [ -S "$OVS_RUN/ovsdb-server.ctl" ]; then
		ovs_env ovs-appctl -t "$OVS_RUN/ovsdb-server.ctl" --timeout=5 exit >/dev/null 2>&1 || true
	fi
	[ -n "${OVSDB_PID:-}" ] && proc_stop "$OVSDB_PID"
	OVSVS_PID="" OVSDB_PID=""
	if ip link show dev "$NIC" >/dev/null 2>&1; then
		ip link set dev "$NIC" xdp off 2>/dev/null || true
		ip link set dev "$NIC" promisc off 2>/dev/null || true
	fi
	ip link show dev "$OVS_BR" >/dev/null 2>&1 && link_del "$OVS_BR"
	# libxdp (inside OVS) creates /sys/fs/bpf/xdp; remove it if it was ours
	[ "${OVS_BPFFS_XDP_EXISTED:-1}" = 0 ] && rmdir /sys/fs/bpf/xdp 2>/dev/null
	# DPDK's EAL: its runtime directory, and their parent if it was ours
	if [ -n "${OVS_DPDK_PREFIX:-}" ]; then
		rm -rf "${OVS_DPDK_RUNDIR:?}/$OVS_DPDK_PREFIX"
		[ "${OVS_DPDK_RUNDIR_EXISTED:-1}" = 0 ] && rmdir "$OVS_DPDK_RUNDIR" 2>/dev/null
		OVS_DPDK_PREFIX=""
	fi
	rm -rf "$OVS_RUN"
	OVS_RUN=""
	return 0
}

# pmd_tids: the thread ids of ovs-vswitchd's PMD threads ("pmd-c01/id:7")
pmd_tids() {
	local t
	[ -n "${OVSVS_PID:-}" ] || return 0
	for t in /proc/"$OVSVS_PID"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in pmd*) echo "${t##*/}" ;; esac
	done | tr '\n' ' '
}

OVS_KIND=""            # veth | tap: the VM port of the running pair
OVS_ON=0 XVNET_ON=0
OVS_SKIP=""            # why OVS could not run (the pair is then skipped)

ovs_arm_off() {
	[ "$OVS_ON" = 1 ] || return 0
	[ -n "${OVS_CONSUMER:-}" ] && proc_stop "$OVS_CONSUMER"
	OVS_CONSUMER=""
	ovs_stop
	[ -n "${OVS_VMPORT:-}" ] && [ "$OVS_KIND" != vhost ] && link_del "$OVS_VMPORT"
	FWD_EXTRA_PIDS=""
	OVS_ON=0
}

# ovs_arm_on: xvnetd stopped; OVS started with the NIC and the VM port
ovs_arm_on() {
	xvnet_arm_off
	ovs_start || { OVS_SKIP="OVS could not start: $OVS_ERR"; ovs_stop; return 1; }
	OVS_ON=1
	ovs_pmd_cpu "$OVS_PMD_CPU"
	nic_drops
	case $OVS_KIND in
	veth)
		OVS_VMPORT=$(xv_name ovh)
		local peer; peer=$(xv_name ovp)
		veth_create "$OVS_VMPORT" "$peer" "" "$V"
		ip -n "$V" link set "$peer" address "$VM_MAC"
		# the far end runs the sink first (XDP there gives it NAPI, and counts)
		sink_start ovs-veth "$XV_TMP/ov.stats" --netns "$V" "$peer"
		OVS_CONSUMER=$SINK_PID
		ovs_add_afxdp "$OVS_VMPORT" || { OVS_SKIP=$OVS_ERR; return 1; }
		OVS_VM_MODE="afxdp-$OVS_MODE"
		STATS=("$XV_TMP/ov.stats")
		DROPS+=("port_tx_dropped - $OVS_VMPORT tx_dropped" "vm_rx_dropped $V $peer rx_dropped")
		;;
	tap)
		OVS_VMPORT=$(xv_name otap)
		# created first and added as an ordinary port: OVS sends into it
		# through a packet socket, and the tap's fd stays with the reader
		tap_create "$OVS_VMPORT"
		tapread_start "$XV_TMP/ot.stats" "$OVS_VMPORT"
		OVS_CONSUMER=$TAPREAD_PID
		ovs_vsctl add-port "$OVS_BR" "$OVS_VMPORT" >"$OVS_RUN/vsctl.log" 2>&1 ||
			{ OVS_SKIP="add-port $OVS_VMPORT failed: $(ovs_log_tail "$OVS_RUN/vsctl.log")"; return 1; }
		OVS_VM_MODE=system
		STATS=("$XV_TMP/ot.stats")
		DROPS+=("tap_tx_dropped - $OVS_VMPORT tx_dropped")
		;;
	vhost)
		# OVS's vhost-user client port connects to the front-end's socket
		local sock=$XV_TMP/ovs-vhost.sock
		OVS_VMPORT=$(xv_name ovu)
		rm -f "$XV_TMP/ovu.stats"
		bg_start "$XV_TMP/ovs-vhostsink.log" taskset -c "$APP_CPU" "$XV_BIN/xvnet-vhostsink" \
			--listen --vhost-socket "$sock" --stats "$XV_TMP/ovu.stats"
		OVS_CONSUMER=$BG_PID
		wait_until 10 grep -q XVNET-VHOSTSINK-LISTENING "$XV_TMP/ovs-vhostsink.log" ||
			{ OVS_SKIP="xvnet-vhostsink --listen: $(ovs_log_tail "$XV_TMP/ovs-vhostsink.log")"; return 1; }
		ovs_vsctl add-port "$OVS_BR" "$OVS_VMPORT" -- set interface "$OVS_VMPORT" \
			type=dpdkvhostuserclient "options:vhost-server-path=$sock" >"$OVS_RUN/vsctl.log" 2>&1 ||
			{ OVS_SKIP="add-port $OVS_VMPORT type=dpdkvhostuserclient failed: $(ovs_log_tail "$OVS_RUN/vsctl.log")"; return 1; }
		wait_until 15 test -s "$XV_TMP/ovu.stats" ||
			{ OVS_SKIP="OVS's vhost-user port did not set up the front-end: $(ovs_log_tail "$XV_TMP/ovs-vhostsink.log") $(grep -E 'vhost|VHOST' "$OVS_RUN/ovs-vswitchd.log" | tail -n 2 | tr '\n' ' ' | cut -c1-300)"; return 1; }
		OVS_VM_MODE=dpdkvhostuserclient
		XSK_VM=""
		STATS=("$XV_TMP/ovu.stats")
		;;
	esac
	ovs_flows in_port "$OVS_VMPORT"
	wait_until 10 test -n "$(pmd_tids)" || { OVS_SKIP="no PMD thread"; return 1; }
	FWD_EXTRA_PIDS=$(pmd_tids)
}

xvnet_arm_off() {
	[ "$XVNET_ON" = 1 ] || return 0
	[ -n "${XV_CONSUMER:-}" ] && proc_stop "$XV_CONSUMER"
	[ -n "${XV_BACKEND:-}" ] && proc_stop "$XV_BACKEND"
	XV_CONSUMER="" XV_BACKEND="" FWD_EXTRA_PIDS="" XSK_VM="" TAP_VM=""
	xvnetd_stop
	[ "$OVS_KIND" = tap ] && ip link del "$(xv_name tap)" 2>/dev/null
	XVNET_ON=0
}

# xvnet_arm_on: OVS stopped; xvnetd started with the VM and its consumer
xvnet_arm_on() {
	ovs_arm_off
	xvnetd_start
	XVNET_ON=1
	nic_drops
	case $OVS_KIND in
	veth)
		"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port veth --netns "$V" --peer-ifname eth1 >/dev/null \
			|| fail "vm add (veth) refused"
		sink_start veth "$XV_TMP/xv.stats" --netns "$V" eth1
		XV_CONSUMER=$SINK_PID
		STATS=("$XV_TMP/xv.stats")
		DROPS+=("port_tx_dropped - $(vm_ifname vm1) tx_dropped" "vm_rx_dropped $V eth1 rx_dropped")
		;;
	tap)
		local tap; tap=$(xv_name tap)
		"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port tap --ifname "$tap" >/dev/null ||
			fail "vm add (tap) refused"
		cleanup_add ip link del "$tap"
		tapread_start "$XV_TMP/xt.stats" "$tap"
		XV_CONSUMER=$TAPREAD_PID
		STATS=("$XV_TMP/xt.stats")
		DROPS+=("tap_tx_dropped - $tap tx_dropped")
		TAP_VM=vm1
		;;
	vhost)
		local sock=$XV_TMP/xv-vhost.sock
		# as users run it: xvnetd starts the back-end (and stops it)
		"${CTL[@]}" vm add vh1 --mac "$VM_MAC" --port vhost-user --vhost-socket "$sock" \
			--ifname "$(xv_name pvh)" --xsk-frames 8192 --xsk-fill-size 4096 --xsk-rx-size 2048 \
			>/dev/null || fail "vm add (vhost-user) refused"
		vhost_user_started vh1 "$sock"
		rm -f "$XV_TMP/xvu.stats"
		bg_start "$XV_TMP/xv-vhostsink.log" taskset -c "$APP_CPU" "$XV_BIN/xvnet-vhostsink" \
			--vhost-socket "$sock" --stats "$XV_TMP/xvu.stats"
		XV_CONSUMER=$BG_PID
		wait_until 10 test -s "$XV_TMP/xvu.stats" ||
			fail "xvnet-vhostsink: $(cat "$XV_TMP/xv-vhostsink.log")"
		# the back-end does the copy OVS's PMD does: forwarding time
		FWD_EXTRA_PIDS=$VHOST_PID
		XSK_VM=vh1
		STATS=("$XV_TMP/xvu.stats")
		;;
	esac
}

# ovs_pair KIND: xvnet vs OVS on a KIND port; OVS tried first, so that a
# machine where it cannot run skips the pair at once.
ovs_pair() {
	local kind=$1 name=ovs-$1 why
	OVS_KIND=$kind OVS_SKIP=""
	why=$(ovs_prereq)
	if [ -n "$why" ]; then
		ovs_skip "$name" "$why"
		OVS_KIND=""
		return 0
	fi
	if ! ovs_arm_on; then
		ovs_skip "$name" "$OVS_SKIP"
		ovs_arm_off
		OVS_KIND=""
		return 0
	fi
	ovs_arm_off
	local dpdk=""
	[ -n "$OVS_DPDK_VERSION" ] && dpdk=",\"dpdk_version\":\"$OVS_DPDK_VERSION\",\"dpdk_extra\":\"$OVS_DPDK_EXTRA\""
	pair "$name" xvnet-restart ovs ",\"port\":\"$kind\",\"vms\":1,\"ovs_version\":\"$OVS_VERSION\"$dpdk,\"ovs_nic_xdp_mode\":\"$OVS_NIC_MODE\",\"ovs_pmd_cpu\":$OVS_PMD_CPU,\"ovs_flows\":\"in_port\",\"ovs_vm_port\":\"$OVS_VM_MODE\""
	xvnet_arm_off
	ovs_arm_off
	OVS_KIND=""
}

pair_ovs_veth() { ovs_pair veth; }
pair_ovs_tap() { ovs_pair tap; }
pair_ovs_vhost() { ovs_pair vhost; }
