# shellcheck shell=bash
# Open vSwitch rows for bench.sh (sourced by it): the peer a user would pick
# for fast VM networking without SR-IOV, OVS's userspace datapath with AF_XDP
# ports, on the same topology and generator as the xvnet rows.
#
#   row_ovs_veth: NIC (afxdp) -> OVS -> host end of the VM's veth (afxdp);
#                 counted by xvnet-xdpsink on the far end in namespace $V,
#                 exactly as the xvnet-veth row.
#   row_ovs_tap:  NIC (afxdp) -> OVS -> a tap added as an ordinary (system)
#                 port; read with read() by xvnet-tapread, as the xvnet-tap row.
#
# Each row starts its own ovsdb-server and ovs-vswitchd from a private run
# directory under $XV_TMP (its own database made with `ovsdb-tool create`,
# sockets, pid files, logs), in the root namespace where $NIC lives, and
# removes all of it at the end: no system service, database or directory is
# used or touched.  The bridge has datapath_type=netdev; afxdp ports ask for
# xdp-mode=best-effort and the mode OVS settled on (native on veth, which has
# no zero-copy) is recorded as "xdp_mode".
#
# Every (PMD core, flows) combination is measured: the PMD thread pinned with
# other_config:pmd-cpu-mask on each core of $OVS_PMD_CPUS (as a user tuning it
# would: on two cores it shares one with either the generator or the NIC's
# NAPI thread), and the OpenFlow table either the single rule
# in_port=NIC,actions=output:VM (OVS's best case) or actions=NORMAL with the
# VM's MAC in the FDB (its common case; the static entry mirrors the Linux
# bridge rows).  OVS_MAXSLEEP adds other_config:pmd-maxsleep values (an idle
# PMD may sleep); off by default: it did not win in the bench runs here.
# Afterwards the lines are relabelled: the best combination becomes the row (ovs-veth /
# ovs-tap), the best PMD setting of the other flows mode becomes
# ovs-veth-normal (or ovs-veth-in_port), everything else ovs-veth-alt; each
# line keeps its "pmd_cpu", "pmd_maxsleep_us", "flows", "xdp_mode",
# "vm_port", "ovs_port_type" and "ovs_version" fields, so nothing measured is
# dropped.  docs/bench/ovs.md has the configuration and where the time goes.
#
# If OVS is missing or cannot run, the row records
# {"row":"ovs-veth","skipped":"<reason>"} and returns.
#
# Environment: OVS_PMD_CPUS ("0 1"), OVS_FLOWS ("in_port normal"),
# OVS_MAXSLEEP ("0"; e.g. "0 50": pmd-maxsleep in microseconds, 0 = off),
# OVS_AFXDP_TYPE (afxdp; afxdp-nonpmd polls from the main thread instead of a
# PMD, and was slower here).

OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
OVS_PMD_CPUS=${OVS_PMD_CPUS:-0 1}
OVS_FLOWS=${OVS_FLOWS:-in_port normal}
OVS_MAXSLEEP=${OVS_MAXSLEEP:-0}
OVS_RUN=""

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
	record "$(python3 -c 'import json,sys; print(json.dumps({"row": sys.argv[1], "skipped": sys.argv[2]}))' "$1" "$2")"
}

# ovs_prereq: print why OVS cannot run here (nothing if it can).
ovs_prereq() {
	local c
	for c in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl ovs-appctl; do
		command -v "$c" >/dev/null 2>&1 || { echo "missing command $c (Debian: openvswitch-switch)"; return; }
	done
	[ -r "$OVS_SCHEMA" ] || { echo "missing $OVS_SCHEMA"; return; }
	ovs-vswitchd --version 2>/dev/null | grep -q 'Open vSwitch' || echo "ovs-vswitchd --version failed"
}

# ovs_log_tail FILE: the last lines of a log, on one line, for a reason.
ovs_log_tail() { tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//' | cut -c1-400; }

# ovs_start: ovsdb-server and ovs-vswitchd from a fresh private directory,
# a netdev bridge with the NIC as an afxdp port.  On failure: OVS_ERR set,
# return 1 (ovs_stop, registered here, undoes what was done).
ovs_start() {
	OVS_ERR=""
	OVS_VERSION=$(ovs-vswitchd --version | sed -n '1s/.* //p')
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
	ovs_vsctl --no-wait set Open_vSwitch . "other_config:pmd-cpu-mask=$(printf 0x%x $((1 << ${OVS_PMD_CPUS%% *})))"
	bg_start "$OVS_RUN/ovs-vswitchd.out" "${OVS_ENVV[@]}" ovs-vswitchd "unix:$OVS_RUN/db.sock" \
		--pidfile="$OVS_RUN/ovs-vswitchd.pid" --unixctl="$OVS_RUN/ovs-vswitchd.ctl" \
		--log-file="$OVS_RUN/ovs-vswitchd.log"
	OVSVS_PID=$BG_PID
	wait_until 10 ovs_appctl version ||
		{ OVS_ERR="ovs-vswitchd did not start: $(ovs_log_tail "$OVS_RUN/ovs-vswitchd.out")"; return 1; }
	ovs_vsctl add-br "$OVS_BR" -- set bridge "$OVS_BR" datapath_type=netdev >"$OVS_RUN/vsctl.log" 2>&1 ||
		{ OVS_ERR="add-br (datapath_type=netdev) failed: $(ovs_log_tail "$OVS_RUN/vsctl.log")"; return 1; }
	# the bridge's internal port is a tap in the root namespace: no addresses
	ip link set dev "$OVS_BR" addrgenmode none 2>/dev/null || true
	ovs_add_afxdp "$NIC" || return 1
	OVS_NIC_MODE=$OVS_MODE
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

# ovs_maxsleep US: other_config:pmd-maxsleep (OVS 3.1: an idle PMD may sleep
# up to US microseconds, giving a shared core back to the NIC's softirq); 0 = off.
ovs_maxsleep() {
	if [ "$1" = 0 ]; then
		ovs_vsctl remove Open_vSwitch . other_config pmd-maxsleep
	else
		ovs_vsctl set Open_vSwitch . "other_config:pmd-maxsleep=$1"
	fi
}

# ovs_measure_all ROW STATS VMPORT VMMODE: every (PMD core, PMD max sleep,
# flows) combination.
ovs_measure_all() {
	local row=$1 stats=$2 vm=$3 vmmode=$4 cpu sl flows
	for cpu in $OVS_PMD_CPUS; do
		ovs_pmd_cpu "$cpu"
		for sl in $OVS_MAXSLEEP; do
			ovs_maxsleep "$sl" || fail "ovs: pmd-maxsleep=$sl refused"
			for flows in $OVS_FLOWS; do
				ovs_flows "$flows" "$vm"
				log "$row: PMD on core $cpu, pmd-maxsleep $sl us, flows $flows"
				measure "$row-try" "$stats" ",\"pmd_cpu\":$cpu,\"pmd_maxsleep_us\":$sl,\"flows\":\"$flows\",\"xdp_mode\":\"$OVS_NIC_MODE\",\"vm_port\":\"$vmmode\",\"ovs_port_type\":\"${OVS_AFXDP_TYPE:-afxdp}\",\"ovs_version\":\"$OVS_VERSION\""
			done
		done
	done
	ovs_relabel "$row"
}

# ovs_relabel ROW: in $OUT.tmp, ROW-try lines become ROW (best combination),
# ROW-<other flows mode> (its best PMD setting) and ROW-alt (the rest).
ovs_relabel() {
	python3 - "$OUT.tmp" "$1" <<'EOF' >&2
import json, os, statistics, sys
path, row = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(path) if l.strip()]
tries = [r for r in lines if r.get("row") == row + "-try"]
med = {}
for r in tries:
    med.setdefault((r["flows"], (r["pmd_cpu"], r.get("pmd_maxsleep_us", 0))), []).append(r["pps"])
med = {k: statistics.median(v) for k, v in med.items()}
best = {}  # flows mode -> its best (PMD core, max sleep)
for (flows, cfg), m in med.items():
    if flows not in best or m > med[(flows, best[flows])]:
        best[flows] = cfg
top = max(best, key=lambda f: med[(f, best[f])]) if best else None
label = {f: row if f == top else f"{row}-{f}" for f in best}
for r in tries:
    f, cfg = r["flows"], (r["pmd_cpu"], r.get("pmd_maxsleep_us", 0))
    r["row"] = label[f] if best[f] == cfg else row + "-alt"
for (f, cfg), m in sorted(med.items()):
    tag = f" -> {label[f]}" if best[f] == cfg else ""
    print(f"{row}: flows {f}, PMD core {cfg[0]}, pmd-maxsleep {cfg[1]} us: median {m:,.0f} pps{tag}")
with open(path + ".new", "w") as out:
    for r in lines:
        out.write(json.dumps(r, separators=(",", ":")) + "\n")
os.replace(path + ".new", path)
EOF
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
	rm -rf "$OVS_RUN"
	OVS_RUN=""
	return 0
}

# ovs_row_start ROW: prerequisites and OVS started; else ROW says skipped
# (return 1).
ovs_row_start() {
	local row=$1 why
	why=$(ovs_prereq)
	if [ -n "$why" ]; then
		ovs_skip "$row" "$why"
		return 1
	fi
	if ! ovs_start; then
		ovs_skip "$row" "OVS could not start: $OVS_ERR"
		ovs_stop
		return 1
	fi
}

row_ovs_veth() {
	ovs_row_start ovs-veth || return 0
	local host peer
	host=$(xv_name ovh)
	peer=$(xv_name ovp)
	veth_create "$host" "$peer" "" "$V"
	ip -n "$V" link set "$peer" address "$VM_MAC"
	# the far end runs the sink first (XDP there gives it NAPI, and counts)
	sink_start ovs-veth "$XV_TMP/ov.stats" --netns "$V" "$peer"
	if ! ovs_add_afxdp "$host"; then
		ovs_skip ovs-veth "$OVS_ERR"
	else
		ovs_measure_all ovs-veth "$XV_TMP/ov.stats" "$host" "afxdp-$OVS_MODE"
	fi
	proc_stop "$SINK_PID"
	ovs_stop
	link_del "$host"
}

row_ovs_tap() {
	ovs_row_start ovs-tap || return 0
	local tap
	tap=$(xv_name otap)
	# created first and added as an ordinary port: OVS sends into it through
	# a packet socket, and the tap's fd stays with the reader
	tap_create "$tap"
	tapread_start "$XV_TMP/ot.stats" "$tap"
	if ! ovs_vsctl add-port "$OVS_BR" "$tap" >"$OVS_RUN/vsctl.log" 2>&1; then
		ovs_skip ovs-tap "add-port $tap failed: $(ovs_log_tail "$OVS_RUN/vsctl.log")"
	else
		ovs_measure_all ovs-tap "$XV_TMP/ot.stats" "$tap" system
	fi
	proc_stop "$TAPREAD_PID"
	ovs_stop
	link_del "$tap"
}
