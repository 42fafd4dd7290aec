#!/usr/bin/env bash
# xvnetd as a host service (issue 21), without traffic:
#  - --version on both programs, from the VERSION file;
#  - --check-config: OK / FILE:LINE, exit 0 / 1, nothing touched; drop-ins
#    in FILE.d/*.conf read, their errors named by drop-in and line;
#  - readiness: a NOTIFY_SOCKET datagram socket gets READY=1 once, and only
#    when `status` already answers; RELOADING=1/READY=1 on reload,
#    STOPPING=1 at exit;
#  - no config file: an empty daemon (status degraded, requests refused)
#    that a reload brings up;
#  - the unit's capability set, applied with setpriv as systemd would (the
#    bounding set parsed from the generated unit, no-new-privs): a tap, a
#    veth and an xsk VM; without CAP_NET_RAW the xsk VM is refused naming
#    CAP_NET_RAW;
#  - the admin's config is byte-identical after vm add / vm del and a
#    restart; the state file has the VMs; a reload merges an edit and keeps
#    a VM added at run time; a drop-in's VM comes and goes with the file;
#    a bad edit at start runs from the state;
#  - status exits 3 (degraded) when the NIC is down, 0 when it is up, and
#    -j carries the same fields; it shows failed redirects per VM;
#  - stats --prometheus parses as Prometheus text (python3-prometheus-client),
#    per counter, per VM, per reason, failed redirects per VM and errno;
#    --output is atomic; --watch has rates;
#  - make install DESTDIR PREFIX=/usr/local: the unit with /usr/local
#    paths, tools off the PATH, man pages readable with man -l; make
#    uninstall removes every file it installed; the man pages name every
#    option of both programs' --help and the unit's capabilities;
#  - the unit's RestrictAddressFamilies lists every family xvnetd opens;
# The parts that need no datapath (version, check-config, install, the
# empty daemon's readiness) run first: where nic_rx does not load, the test
# skips after them, saying so.
# Names: xsv-* devices and namespaces, /sys/fs/bpf/xvnet-xsv-*, /tmp/xsv-*.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# this test's own names (the brief of issue 21): prefix xsv-
XV_PREFIX="xsv-$(printf %04x $(($$ & 0xffff)))-"
rmdir "$XV_TMP" 2>/dev/null
XV_TMP=$(mktemp -d /tmp/xsv-XXXXXX)
XVD_PIN=/sys/fs/bpf/xvnet-${XV_PREFIX%-}
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

require_root
require_bin xvnetd xvnetctl
require_cmd setpriv python3 ethtool make man
[ -f "$XV_BUILD/xvnetd.service" ] || skip "missing $XV_BUILD/xvnetd.service (run make)"
D=$XV_BIN/xvnetd

# ---- --version --------------------------------------------------------------
ver=$(cat "$XV_ROOT/VERSION")
out=$("$D" --version) || fail "xvnetd --version: exit $?"
[[ "$out" == "xvnetd $ver"* ]] || fail "xvnetd --version: '$out', VERSION is $ver"
out=$("$XV_BIN/xvnetctl" --version) || fail "xvnetctl --version: exit $?"
[[ "$out" == "xvnetctl $ver"* ]] || fail "xvnetctl --version: '$out'"
log "--version: $out"
for v in 0 3601 10s x ""; do
	rc=0; out=$("$D" --health-window "$v" --probe 2>&1) || rc=$?
	[ "$rc" -eq 2 ] && grep -q "^xvnetd: --health-window: '$v' is not a number of seconds from 1 to 3600" <<<"$out" ||
		fail "--health-window '$v': exit $rc ($out)"
done

# ---- --check-config ---------------------------------------------------------------
mkdir "$XV_TMP/cc"
printf '# audit config\nnic eth9\nvm a mac 02:00:00:00:00:01 port tap\n' >"$XV_TMP/cc/good.conf"
printf 'nic eth9\n\nvm a mac 02:00:00:00:00:01 vlan 4095 port tap\n' >"$XV_TMP/cc/bad.conf"
# what it could touch: the files, their directory, the default state and
# socket directories
snap() { find "$XV_TMP/cc" -printf '%p %s %T@\n'; ls -d /var/lib/xvnet /run/xvnet 2>&1; }
snap >"$XV_TMP/cc.before"
out=$("$D" --check-config "$XV_TMP/cc/good.conf" 2>&1) || fail "--check-config of a good file: exit $? ($out)"
[[ "$out" == *"good.conf: OK"* ]] || fail "--check-config good: '$out'"
rc=0; out=$("$D" --check-config "$XV_TMP/cc/bad.conf" 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "--check-config of a bad file: exit $rc"
[[ "$out" == *"bad.conf:3: vlan: '4095'"* ]] || fail "--check-config bad: '$out' (want FILE:3: vlan)"
rc=0; "$D" --check-config "$XV_TMP/cc/none.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "--check-config of a missing file: exit $rc"
snap >"$XV_TMP/cc.after"
cmp -s "$XV_TMP/cc.before" "$XV_TMP/cc.after" || fail "--check-config touched files: $(diff "$XV_TMP/cc.before" "$XV_TMP/cc.after")"
# drop-ins: FILE.d/*.conf, in name order; an error names the drop-in's line
mkdir "$XV_TMP/cc/good.conf.d"
printf '# b\nvm b mac 02:00:00:00:00:02 port tap\n' >"$XV_TMP/cc/good.conf.d/10-b.conf"
printf 'not a conf\n' >"$XV_TMP/cc/good.conf.d/README"
out=$("$D" --check-config "$XV_TMP/cc/good.conf" 2>&1) || fail "--check-config with a drop-in: exit $? ($out)"
[[ "$out" == *"OK (nic eth9, 2 VMs"* ]] || fail "--check-config did not read the drop-in: '$out'"
printf '\nvm c mac 02:00:00:00:00:02 port tap\n' >"$XV_TMP/cc/good.conf.d/20-c.conf"
rc=0; out=$("$D" --check-config "$XV_TMP/cc/good.conf" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && [[ "$out" == *"good.conf.d/20-c.conf:2: mac: '02:00:00:00:00:02' already used"* ]] ||
	fail "--check-config, bad drop-in: exit $rc '$out'"
rm -r "$XV_TMP/cc/good.conf.d"
log "--check-config: OK 0, FILE:LINE 1, missing 1, nothing touched; drop-ins read, their errors named"

# ---- make install / uninstall ----------------------------------------------------------------
DEST=$XV_TMP/dest
make -s -C "$XV_ROOT" BUILD="$XV_BUILD" install DESTDIR="$DEST" PREFIX=/usr/local >"$XV_TMP/install.log" 2>&1 ||
	fail "make install: $(tail -5 "$XV_TMP/install.log")"
U=$DEST/usr/local/lib/systemd/system/xvnetd.service
[ -f "$U" ] || fail "no unit in /usr/local/lib/systemd/system"
grep -q '^ExecStart=/usr/local/sbin/xvnetd ' "$U" || fail "unit ExecStart: $(grep Exec "$U")"
grep -q '^ExecReload=/usr/local/bin/xvnetctl reload' "$U" || fail "unit ExecReload: $(grep Exec "$U")"
grep -q '^Type=notify' "$U" || fail "unit is not Type=notify"
! grep -q '/usr/sbin\|/usr/bin' "$U" || fail "unit names /usr paths: $(grep -n '/usr/s\?bin' "$U")"
[ -x "$DEST/usr/local/sbin/xvnetd" ] && [ -x "$DEST/usr/local/bin/xvnetctl" ] || fail "programs not installed"
for t in xvnet-trafgen xvnet-tapread xvnet-xdpsink xvnet-flowfill; do
	[ -x "$DEST/usr/local/lib/xvnet/$t" ] || fail "$t not in lib/xvnet"
	[ -e "$DEST/usr/local/bin/$t" ] && fail "$t installed on the PATH"
done
[ -e "$DEST/etc" ] && fail "make install wrote under /etc"
for m in man8/xvnetd.8 man8/xvnetctl.8 man5/xvnetd.conf.5; do
	MANWIDTH=80 man -l "$DEST/usr/local/share/man/$m" 2>&1 | grep -q '^NAME' ||
		fail "man -l $m: $(MANWIDTH=80 man -l "$DEST/usr/local/share/man/$m" 2>&1 | head -3)"
done
# the man pages keep up with the programs: every option of --help, every
# capability of the unit
for o in $("$D" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "\*$o\*" "$XV_ROOT/docs/man/xvnetd.8.scd" || fail "xvnetd(8) lacks $o"
done
for c in $(sed -n 's/^CapabilityBoundingSet=//p' "$U"); do
	grep -q "$c" "$XV_ROOT/docs/man/xvnetd.8.scd" || fail "xvnetd(8) lacks the unit's $c"
done
for o in $("$XV_BIN/xvnetctl" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$o" "$XV_ROOT/docs/man/xvnetctl.8.scd" || fail "xvnetctl(8) lacks $o"
done
[ -f "$DEST/usr/local/share/bash-completion/completions/xvnetctl" ] || fail "no bash completion"
bash -n "$DEST/usr/local/share/bash-completion/completions/xvnetctl" || fail "completion: syntax"
"$D" --check-config "$DEST/usr/local/share/doc/xvnet/examples/xvnetd.conf" >/dev/null ||
	fail "the example config does not check"
n=$(find "$DEST" -type f | wc -l)
make -s -C "$XV_ROOT" BUILD="$XV_BUILD" uninstall DESTDIR="$DEST" PREFIX=/usr/local >"$XV_TMP/uninstall.log" 2>&1 ||
	fail "make uninstall: $(tail -5 "$XV_TMP/uninstall.log")"
left=$(find "$DEST" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
# make install PREFIX=/usr/local rewrote the build's units with its paths:
# put back the default PREFIX's, so a later `make install` is not the
# only thing that mends them
make -s -C "$XV_ROOT" BUILD="$XV_BUILD" "$XV_BUILD/xvnetd.service" "$XV_BUILD/xvnet-metrics.service" \
	>/dev/null 2>&1 || fail "regenerating the build's units"
grep -q '^ExecStart=/usr/sbin/xvnetd ' "$XV_BUILD/xvnetd.service" ||
	fail "the build's unit still has: $(grep ExecStart "$XV_BUILD/xvnetd.service")"
log "make install: $n files, unit with /usr/local paths; make uninstall removed them all"

# ---- the unit's address families ----------------------------------------------------------
# Under RestrictAddressFamilies= any other family's socket() fails with
# EAFNOSUPPORT, which no setpriv run here emulates: every family xvnetd's
# own sources open must be listed, and those its libraries open (libmnl's
# and libbpf's netlink, libxdp's AF_XDP).
fams=" $(sed -n 's/^RestrictAddressFamilies=//p' "$XV_BUILD/xvnetd.service") "
used=$(grep -ho 'socket(AF_[A-Z0-9]*' "$XV_ROOT"/loader/*.c "$XV_ROOT"/loader/*/*.c \
	"$XV_ROOT"/lib/*.c | sed 's/^socket(//' | sort -u | tr '\n' ' ')
for f in $used AF_NETLINK AF_XDP; do
	case "$fams" in *" $f "*) ;; *) fail "the unit's RestrictAddressFamilies=${fams% } lacks $f (xvnetd opens it)" ;; esac
done
log "the unit's address families cover what xvnetd opens: $used+ AF_NETLINK AF_XDP"

# ---- readiness (sd_notify) and the empty daemon -----------------------------------------
# The listener binds the NOTIFY_SOCKET, logs every datagram, and on the
# first READY=1 asks the control socket for status at once.
cat >"$XV_TMP/notify.py" <<'PYEOF'
import json, os, socket, sys
path, ctl, out = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)
with open(out, "w", buffering=1) as log:
    ready = 0
    while True:
        msg = s.recv(4096).decode()
        for line in msg.split("\n"):
            if line:
                log.write(line + "\n")
        if "READY=1" in msg.split("\n"):
            ready += 1
            if ready == 1:
                try:
                    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    c.connect(ctl)
                    c.sendall(b'{"cmd":"status"}\n')
                    rep = json.loads(c.makefile().readline())
                    log.write("status-at-ready %s\n" % ("answered" if "ok" in rep else rep))
                except Exception as e:
                    log.write("status-at-ready failed: %s\n" % e)
        if "STOPPING=1" in msg.split("\n"):
            break
PYEOF
NOTIFY=$XV_TMP/notify.sock
bg_start "$XV_TMP/notify.stderr" python3 "$XV_TMP/notify.py" "$NOTIFY" "$XVD_SOCK" "$XV_TMP/notify.log"
wait_until 5 test -S "$NOTIFY" || fail "notify listener did not start: $(cat "$XV_TMP/notify.stderr")"
rm -f "$XVD_CONF"       # no config at all
bg_start "$XV_TMP/xvnetd-empty.log" env NOTIFY_SOCKET="$NOTIFY" "$D" --foreground --log-level debug \
	--config "$XVD_CONF" --state-dir "$XVD_STATE_DIR" --socket "$XVD_SOCK" --pin-dir "$XVD_PIN"
XVD_PID=$BG_PID
cleanup_add _xvnetd_teardown
wait_until 20 grep -q '^status-at-ready' "$XV_TMP/notify.log" ||
	fail "no READY=1 from a daemon without config: $(cat "$XV_TMP/xvnetd-empty.log")"
grep -qx 'status-at-ready answered' "$XV_TMP/notify.log" ||
	fail "READY=1 came before status answered: $(cat "$XV_TMP/notify.log")"
_xv_dead "$XVD_PID" && fail "xvnetd without config exited: $(cat "$XV_TMP/xvnetd-empty.log")"
grep -q "no such file: starting without a datapath" "$XV_TMP/xvnetd-empty.log" ||
	fail "no log line for the missing config"
rc=0; xvctl status >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "status of an empty daemon: exit $rc ($(cat "$XV_TMP/out"))"
grep -q "problem: no configuration" "$XV_TMP/out" || fail "empty status: $(cat "$XV_TMP/out")"
rc=0; xvctl vm add t0 --mac 02:00:00:00:44:00 --port tap >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "no datapath" "$XV_TMP/out" || fail "vm add on an empty daemon: exit $rc $(cat "$XV_TMP/out")"
log "no config: empty daemon, READY=1 once status answered, status exit 3, requests refused"

# the datapath: nic_rx must load on this kernel
xv_topology
printf '# audit config: comments stay\nnic %s\n' "$NIC" >"$XVD_CONF"
cp "$XVD_CONF" "$XV_TMP/conf.orig"
if ! xvctl reload >"$XV_TMP/out" 2>&1; then
	grep -q "load nic_rx" "$XV_TMP/out" && skip "nic_rx does not load on this kernel: $(cat "$XV_TMP/out")"
	fail "reload with a config refused: $(cat "$XV_TMP/out")"
fi
xvctl status >"$XV_TMP/out" 2>&1 || fail "status after the first reload: exit $? ($(cat "$XV_TMP/out"))"
wait_until 5 test "$(grep -c '^READY=1' "$XV_TMP/notify.log")" -ge 2 || fail "no READY=1 after the reload"
grep -q '^RELOADING=1' "$XV_TMP/notify.log" || fail "no RELOADING=1: $(cat "$XV_TMP/notify.log")"
xvctl shutdown || fail "shutdown refused"
wait_until 5 _xv_dead "$XVD_PID" || fail "xvnetd did not exit"
wait_until 5 grep -q '^STOPPING=1' "$XV_TMP/notify.log" || fail "no STOPPING=1: $(cat "$XV_TMP/notify.log")"
[ "$(grep -c '^READY=1' "$XV_TMP/notify.log")" -eq 2 ] || fail "READY=1 not once per start/reload: $(cat "$XV_TMP/notify.log")"
log "notify: $(tr '\n' ' ' <"$XV_TMP/notify.log")"

# ---- the unit's capability set -----------------------------------------------------------
# CapabilityBoundingSet and NoNewPrivileges of the generated unit, applied
# as systemd does for a root service: bounding set, nothing inheritable or
# ambient, no new privileges (root's permitted set is then the bounding set)
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$XV_BUILD/xvnetd.service")
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
grep -qx 'NoNewPrivileges=yes' "$XV_BUILD/xvnetd.service" || fail "unit without NoNewPrivileges"
capset() { # CAP_A CAP_B ... -> -all,+a,+b
	local c s=-all
	for c in "$@"; do
		c=${c#CAP_}; s+=",+${c,,}"
	done
	echo "$s"
}
# shellcheck disable=SC2086
unit_caps=$(capset $caps)
launch_caps() { # BOUNDING-SET LOG
	bg_start "$2" setpriv --bounding-set "$1" --inh-caps -all --ambient-caps -all --no-new-privs \
		"$D" --foreground --log-level debug --config "$XVD_CONF" \
		--state-dir "$XVD_STATE_DIR" --socket "$XVD_SOCK" --pin-dir "$XVD_PIN"
	XVD_PID=$BG_PID
	wait_until 20 xvd_answers || fail "xvnetd under $1 did not start: $(tail -5 "$2")"
}
launch_caps "$unit_caps" "$XV_TMP/xvnetd-caps.log"
capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/"$XVD_PID"/status)
capeff=$(awk '/^CapEff:/ {print $2}' /proc/"$XVD_PID"/status)
capprm=$(awk '/^CapPrm:/ {print $2}' /proc/"$XVD_PID"/status)
# once listening, xvnetd keeps what it uses while it runs (loader/kern/caps.c
# kept_caps): the unit's set, which is just that
want=$(python3 -c '
import sys
bits = {"CAP_CHOWN": 0, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
        "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_SYS_PTRACE": 19,
        "CAP_SYS_ADMIN": 21, "CAP_PERFMON": 38, "CAP_BPF": 39}
print("%016x" % sum(1 << b for c, b in bits.items() if c in sys.argv[1:]))' $caps)
[ "$capeff" = "$want" ] && [ "$capprm" = "$want" ] ||
	fail "xvnetd's effective/permitted caps $capeff/$capprm, want $want (unit's $capbnd)"
log "xvnetd runs with the unit's set ($caps): CapBnd $capbnd, after start-up CapEff $capeff"

NSV=$(xv_name vm)
ns_create "$NSV"
TAP=$(xv_name t1) VETH=$(xv_name v1) XSK=$(xv_name x1) XSKP=$(xv_name x1k)
xvctl vm add t1 --mac 02:00:00:00:44:01 --port tap --ifname "$TAP" || fail "tap VM refused under the unit's caps"
cleanup_add ip link del "$TAP"
xvctl vm add v1 --mac 02:00:00:00:44:02 --port veth --netns "$NSV" --ifname "$VETH" ||
	fail "veth VM refused under the unit's caps"
cleanup_add ip link del "$VETH"
xvctl vm add x1 --mac 02:00:00:00:44:03 --port xsk --ifname "$XSK" --peer-ifname "$XSKP" \
	--xsk-frames 4096 >"$XV_TMP/out" 2>&1 || fail "xsk VM refused under the unit's caps: $(cat "$XV_TMP/out")"
cleanup_add ip link del "$XSK"
xvctl -j vm show x1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
x = d["xsk"]
assert x and x.get("sockets", 0) >= 1, x' || fail "xsk VM without sockets: $(xvctl -j vm show x1)"
# a tap no VMM opened yet is down, not a problem; no port is missing or
# stale.  (Datapath error growth is left out here: with a locally stubbed
# nic_rx, frames that reach the xsk VM count meta_fail.)
rc=0; xvctl status >"$XV_TMP/out" 2>&1 || rc=$?
grep '^problem:' "$XV_TMP/out" | grep -v '^problem: datapath errors' >"$XV_TMP/probs"
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "status: exit $rc"
[ -s "$XV_TMP/probs" ] && fail "problems with a tap, a veth and an xsk VM: $(cat "$XV_TMP/probs")"
xvctl vm del x1 || fail "vm del x1"
# a vhost-user VM: its back-end gets the socket and drops to nobody
NOBODY=$(id -u nobody)
xvctl vm add h1 --mac 02:00:00:00:44:04 --port vhost-user --ifname "$XSK" --peer-ifname "$XSKP" \
	--xsk-frames 4096 --vhost-socket "$XV_TMP/h1.vhost" --group 4243 >"$XV_TMP/out" 2>&1 ||
	fail "vhost-user VM refused under the unit's caps: $(cat "$XV_TMP/out")"
# shellcheck disable=SC2317  # called through wait_until
backend_up() {
	HPID=$(xvctl -j vm show h1 | jq -r "$XV_JQ_PY"' .["vhost"]["pid"] | py')
	[ "$HPID" -gt 0 ] && [ -S "$XV_TMP/h1.vhost" ] &&
		[ "$(awk '/^Uid:/ { print $2 }' "/proc/$HPID/status" 2>/dev/null)" = "$NOBODY" ]
}
wait_until 5 backend_up || fail "vhost-user back-end not up as nobody under the unit's caps: $(xvctl -j vm show h1)"
[ "$(stat -c '%g %a' "$XV_TMP/h1.vhost")" = "4243 660" ] ||
	fail "back-end socket $(stat -c '%g %a' "$XV_TMP/h1.vhost"), want group 4243 mode 660"
xvctl vm del h1 || fail "vm del h1"
wait_until 3 test ! -e "/proc/$HPID" || fail "vm del did not stop the back-end (CAP_KILL?)"
log "tap, veth, xsk and vhost-user VM up under the unit's capability set"
proc_stop "$XVD_PID"

# without CAP_NET_RAW: the xsk VM is refused, the message names it
launch_caps "${unit_caps/,+net_raw/}" "$XV_TMP/xvnetd-noraw.log"
rc=0; xvctl vm add x1 --mac 02:00:00:00:44:03 --port xsk --ifname "$XSK" --peer-ifname "$XSKP" \
	--xsk-frames 4096 >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "xsk VM without CAP_NET_RAW: exit $rc ($(cat "$XV_TMP/out"))"
grep -q "missing CAP_NET_RAW" "$XV_TMP/out" || fail "the refusal does not name CAP_NET_RAW: $(cat "$XV_TMP/out")"
log "without CAP_NET_RAW: $(cat "$XV_TMP/out")"
rc=0; xvctl status >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 3 ] && grep -q "problem: capabilities: (missing CAP_NET_RAW)" "$XV_TMP/out" ||
	fail "status without CAP_NET_RAW: exit $rc $(cat "$XV_TMP/out")"
[ "$(xvctl -j status | jq -r "$XV_JQ_PY"' .["capabilities_missing"] | py')" = CAP_NET_RAW ] ||
	fail "-j capabilities_missing: $(xvctl -j status)"
proc_stop "$XVD_PID"

# ---- config untouched, state kept ----------------------------------------------------------
_xvnetd_launch
cmp -s "$XVD_CONF" "$XV_TMP/conf.orig" || fail "the config changed: $(diff "$XV_TMP/conf.orig" "$XVD_CONF")"
grep -q "^vm t1 .*ifname $TAP" "$XVD_STATE" || fail "state lacks vm t1: $(cat "$XVD_STATE")"
xvctl vm list | grep -q "^v1 " || fail "vm v1 lost across restarts: $(xvctl vm list)"
xvctl vm del v1 || fail "vm del v1"
xvctl vm add v2 --mac 02:00:00:00:44:04 --port veth --netns "$NSV" --ifname "$VETH" || fail "vm add v2"
cmp -s "$XVD_CONF" "$XV_TMP/conf.orig" || fail "vm add/del changed the config: $(diff "$XV_TMP/conf.orig" "$XVD_CONF")"
grep -q "^vm v2 " "$XVD_STATE" && ! grep -q "^vm v1 " "$XVD_STATE" || fail "state after add/del: $(cat "$XVD_STATE")"
# an admin's edit, reloaded: merged, the VMs added at run time stay
TAP2=$(xv_name t2)
printf 'vm t2 mac 02:00:00:00:44:05 port tap ifname %s   # from the admin\n' "$TAP2" >>"$XVD_CONF"
cp "$XVD_CONF" "$XV_TMP/conf.edited"
xvctl reload || fail "reload of an edited config refused"
cleanup_add ip link del "$TAP2"
xvctl vm list | grep -q "^t2 " || fail "reload did not add t2: $(xvctl vm list)"
xvctl vm list | grep -q "^v2 " && xvctl vm list | grep -q "^t1 " || fail "reload lost a VM added at run time: $(xvctl vm list)"
cmp -s "$XVD_CONF" "$XV_TMP/conf.edited" || fail "reload changed the config"
# a bad edit, reloaded: refused with FILE:LINE, nothing changes
cp "$XVD_STATE" "$XV_TMP/state.before"
printf 'vm t9 mac 02:00:00:00:44:09 vlan 99999 port tap\n' >>"$XVD_CONF"
rc=0; xvctl reload >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q "$XVD_CONF:$(wc -l <"$XVD_CONF"): vlan" "$XV_TMP/out" ||
	fail "reload of a bad edit: exit $rc $(cat "$XV_TMP/out")"
cmp -s "$XVD_STATE" "$XV_TMP/state.before" || fail "a refused reload changed the state"
cp "$XV_TMP/conf.edited" "$XVD_CONF"
# a drop-in is part of the admin's configuration: added, then removed
TAP3=$(xv_name t3)
mkdir "$XVD_CONF.d"
printf 'vm t3 mac 02:00:00:00:44:06 port tap ifname %s\n' "$TAP3" >"$XVD_CONF.d/50-t3.conf"
cleanup_add ip link del "$TAP3"
xvctl reload || fail "reload with a drop-in refused"
xvctl vm list | grep -q "^t3 " || fail "the drop-in's VM is missing: $(xvctl vm list)"
rm -r "$XVD_CONF.d"
xvctl reload || fail "reload without the drop-in refused"
xvctl vm list | grep -q "^t3 " && fail "the drop-in's VM stayed after it was removed"
ip link show "$TAP3" >/dev/null 2>&1 && fail "the drop-in VM's port stayed"
log "config byte-identical after vm add/del/restart/reload; state holds the VMs; reload merged t2"
# a bad edit and a restart (systemd's Restart=, a reboot): the daemon runs
# from its state, says why, and does not loop
proc_stop "$XVD_PID"
printf 'vm bad mac 02:zz port tap\n' >>"$XVD_CONF"
# a short error-sampling window for the health checks below
XVD_OPTS="--health-window 2"
_xvnetd_launch
grep -q "running from the state, the edit is not applied" "$XV_TMP/xvnetd.log" ||
	fail "no log line for a bad config at start: $(grep -i err "$XV_TMP/xvnetd.log")"
xvctl vm list | grep -q "^t2 " && xvctl vm list | grep -q "^v2 " || fail "VMs lost with a bad config at start"
cp "$XV_TMP/conf.edited" "$XVD_CONF"
log "a bad config at start: running from the state"

# ---- health: the NIC down --------------------------------------------------------------------
xvctl status >/dev/null || fail "status with the NIC up: exit $?"
ip link set "$NIC" down
rc=0; xvctl status >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "status with the NIC down: exit $rc"
grep -q "problem: nic $NIC: down" "$XV_TMP/out" || fail "status does not say the NIC is down: $(cat "$XV_TMP/out")"
rc=0; xvctl -j status >"$XV_TMP/out.json" 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "-j status with the NIC down: exit $rc"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["degraded"] is True and d["nic_oper_state"] == "down" and d["nic_carrier"] is False, d
assert any("down" in p for p in d["problems"]), d["problems"]
for k in ("ports_missing", "ports_stale", "capabilities_missing", "errors"):
    assert k in d, k' "$XV_TMP/out.json" || fail "-j status fields: $(cat "$XV_TMP/out.json")"
ip link set "$NIC" up
wait_until 5 xvctl status || fail "status after the NIC came back: $(xvctl status 2>&1)"
# a datapath error counter that grows: degraded, naming it.  No traffic:
# the counter is raised in this test's own pinned map (queue_not_ready,
# index 14 of XVNET_COUNTERS; one value for every CPU's slot)
if command -v bpftool >/dev/null; then
	idx=$(awk '/XVNET_COUNTERS\(X\)/ {on=1; next} on && /X\(/ {if ($0 ~ /"queue_not_ready"/) {print n; exit} n++}' \
		"$XV_ROOT/maps/xvnet_maps.h")
	[ -n "$idx" ] || fail "queue_not_ready not found in maps/xvnet_maps.h"
	bpftool map update pinned "$XVD_PIN/xvnet_stats" key "$idx" 0 0 0 value 7 0 0 0 0 0 0 0 ||
		fail "bpftool map update of xvnet_stats"
	# (status exits 3 then: not in a pipeline, pipefail is on)
	grew() { local out; out=$(xvctl status 2>/dev/null); grep -q "problem: datapath errors in the last [1-9][0-9]* s: queue_not_ready +" <<<"$out"; }
	wait_until 10 grew || fail "a growing queue_not_ready is not a problem: $(xvctl status 2>&1 | tail -3)"
	rc=0; xvctl -j status >"$XV_TMP/out.json" || rc=$?
	[ "$rc" -eq 3 ] || fail "status with growing errors: exit $rc"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["errors_recent"]["queue_not_ready"] > 0 and d["errors"]["queue_not_ready"] >= 7, d' "$XV_TMP/out.json" ||
		fail "errors_recent: $(cat "$XV_TMP/out.json")"
	# it passes once no more grow for a full window: two samples of
	# --health-window 2, where the default window would take 10-20 s
	t0=$SECONDS
	wait_until 10 xvctl status || fail "still degraded after the errors stopped: $(xvctl status 2>&1 | tail -3)"
	[ $((SECONDS - t0)) -le 6 ] || fail "healthy again only after $((SECONDS - t0)) s with --health-window 2"
	log "a growing error counter: degraded (exit 3), named, -j errors_recent; healthy again $((SECONDS - t0)) s later (--health-window 2)"
fi
# a port deleted behind xvnetd's back: missing, degraded
ip link del "$TAP2"
rc=0; xvctl status >"$XV_TMP/out" 2>&1 || rc=$?
[ "$rc" -eq 3 ] && grep -q "problem: vm t2: port $TAP2 missing" "$XV_TMP/out" ||
	fail "status with a missing port: exit $rc $(cat "$XV_TMP/out")"
log "status: exit 3 with the NIC down and with a port missing, 0 when healthy; -j carries the fields"

# ---- the completion's words are xvnetctl's own (xvnetctl __complete) ------------------------
# every knob of lib/knobs.h is offered where it is taken, and every option
# offered is one the command's --help names (no daemon asked: -s nowhere)
CTL=("$XV_BIN/xvnetctl" -s "$XV_TMP/nowhere.sock")
knobs() { # MACRO: the names one knob list of lib/knobs.h defines
	awk -v m="$1" '$0 ~ "^#define " m "\\(X\\)" { on = 1; next }
		on && (/^#define/ || /^$/) { on = 0 } on' "$XV_ROOT/lib/knobs.h" |
		grep -oE 'X\(("[a-z-]+"|[a-z_]+, "[a-z-]+")' | grep -oE '"[a-z-]+"' | tr -d '"'
}
nk=0
for pair in "vm add:XV_XSK_KNOBS" "vm move:XV_XSK_KNOBS" "coalesce set:XV_COAL_KNOBS" \
	"rss set:XV_RSS_KNOBS"; do
	# shellcheck disable=SC2086 # the command's two words
	offered=$("${CTL[@]}" __complete ${pair%%:*})
	[ -n "$(knobs "${pair#*:}")" ] || fail "no knobs read from ${pair#*:} in lib/knobs.h"
	for k in $(knobs "${pair#*:}"); do
		grep -qx -- "--$k" <<<"$offered" || fail "completion of ${pair%%:*}: --$k missing: $offered"
		nk=$((nk + 1))
	done
done
no=0
for obj in $("${CTL[@]}" __complete); do
	words=$("${CTL[@]}" __complete "$obj")
	help=$("${CTL[@]}" "$obj" --help 2>&1)
	if [[ $words == --* ]]; then    # options right after the object
		verbs=("")
	else
		mapfile -t verbs <<<"$words"
	fi
	for v in "${verbs[@]}"; do
		[ -z "$v" ] || help+=$("${CTL[@]}" "$obj" "$v" --help 2>&1)
		for o in $("${CTL[@]}" __complete "$obj" ${v:+"$v"}); do
			grep -qe "$o\b" <<<"$help" || fail "completion of $obj $v offers $o, which its --help does not name"
			no=$((no + 1))
		done
	done
done
[ "$no" -gt 60 ] || fail "completion: only $no options offered"
log "completion words from xvnetctl __complete: $nk knobs of lib/knobs.h offered, $no options each named by its --help"

# ---- bash completion: objects, verbs, and VM names from the daemon ------------------------
if [ -f /usr/share/bash-completion/bash_completion ]; then
	complete_words() { # WORD...: what <TAB> after them offers
		bash -c '
		. /usr/share/bash-completion/bash_completion
		. "$1/ctl/xvnetctl.bash-completion"
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		PATH=$0:$PATH _xvnetctl xvnetctl
		echo "${COMPREPLY[*]}"' "$XV_BIN" "$XV_ROOT" xvnetctl -s "$XVD_SOCK" "$@"
	}
	comp=$(complete_words vm show "")
	[[ " $comp " == *" t1 "* && " $comp " == *" v2 "* ]] || fail "completion of vm show: '$comp'"
	log "bash completion: vm show <TAB> -> $comp"
	comp=$(complete_words coalesce set t1 --)
	for k in $(knobs XV_COAL_KNOBS); do
		[[ " $comp " == *" --$k "* ]] || fail "completion of coalesce set t1 --: '$comp' lacks --$k"
	done
	comp=$(complete_words vm add n1 --xsk-)
	[ "$(wc -w <<<"$comp")" = "$(knobs XV_XSK_KNOBS | wc -l)" ] ||
		fail "completion of vm add n1 --xsk-: '$comp'"
	log "bash completion: coalesce set t1 --<TAB> and vm add n1 --xsk-<TAB> offer lib/knobs.h's knobs"
else
	log "bash-completion not installed: completion not tried (make deps)"
fi
# ---- metrics: Prometheus text for node_exporter's textfile collector ------------------------
# a failed redirect into v2, as xdp:xdp_redirect_err would count it: key
# {vm_id u32, err u16 = ENETDOWN (100), dir u8 = in (0), pad}, 5 frames
REDIR=0
if command -v bpftool >/dev/null; then
	v2id=$(xvctl -j vm show v2 | jq -r "$XV_JQ_PY"' .["id"] | py') ||
		fail "vm show v2: no id"
	bpftool map update pinned "$XVD_PIN/xvnet_redirect_err" \
		key $((v2id & 255)) $((v2id >> 8 & 255)) 0 0 100 0 0 0 value 5 0 0 0 0 0 0 0 ||
		fail "bpftool map update of xvnet_redirect_err"
	REDIR=1
	# status shows it (shown, not judged), -j too
	out=$(xvctl status 2>&1)
	grep -q "^redirect errors.* vm v2 in 100 (Network is down) [0-9]" <<<"$out" ||
		fail "status does not show v2's failed redirects: $(grep -i redirect <<<"$out")"
	xvctl -j status >"$XV_TMP/out.json" 2>/dev/null
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["redirect_errors"]
assert any(e["vm"] == "v2" and e["dir"] == "in" and e["err"] == 100 and e["frames"] >= 5 for e in r), r' \
		"$XV_TMP/out.json" || fail "status -j redirect_errors: $(cat "$XV_TMP/out.json")"
fi
PROM=$XV_TMP/xvnet.prom
xvctl stats --prometheus --output "$PROM" || fail "stats --prometheus --output: exit $?"
[ "$(stat -c %a "$PROM")" = 644 ] || fail "the textfile is not world-readable: $(stat -c %a "$PROM")"
ls "$XV_TMP"/xvnet.prom.*.tmp >/dev/null 2>&1 && fail "a temporary file was left"
# Debian's python3-prometheus-client (for Debian's python3) parses it as
# Prometheus would
/usr/bin/python3 - "$PROM" "$REDIR" <<'PYEOF' || fail "the Prometheus text does not parse or lacks metrics: $(head -20 "$PROM")"
import sys
from prometheus_client.parser import text_string_to_metric_families
fam = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
def samples(name):
    return [(s.labels, s.value) for s in fam[name].samples]
assert samples("xvnet_up") == [({}, 1.0)], samples("xvnet_up")
assert samples("xvnet_degraded")[0][1] == 1.0        # t2's port is missing
reasons = {l["counter"] for l, v in samples("xvnet_datapath_frames")}
assert {"rx", "delivered", "no_vm", "flood_err", "tx_spoof"} <= reasons, reasons
vms = {l["vm"] for l, v in samples("xvnet_vm_rx_packets")}
assert {"t1", "t2", "v2"} <= vms, vms
spoof = {(l["vm"], l["reason"]) for l, v in samples("xvnet_vm_tx_spoofed")}
assert ("v2", "ip") in spoof and ("v2", "mac") in spoof, spoof
if sys.argv[2] == "1":
    redir = {(l["vm"], l["dir"], l["errno"]): v for l, v in samples("xvnet_vm_redirect_errors")}
    # bpftool writes the value into every CPU's slot: 5 per possible CPU
    assert redir.get(("v2", "in", "100"), 0) >= 5.0, redir
PYEOF
rc=0; xvctl stats --output "$PROM" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "stats --output without --prometheus: exit $rc"
# --watch: totals with rates per second from the second round on
timeout 3.5 "$XV_BIN/xvnetctl" -s "$XVD_SOCK" stats --watch 1 >"$XV_TMP/watch.out" 2>&1
grep -q "rates per second" "$XV_TMP/watch.out" && grep -Eq '^rx +[0-9]+ \([0-9]+/s\)$' "$XV_TMP/watch.out" ||
	fail "stats --watch shows no rates: $(tail -5 "$XV_TMP/watch.out")"
log "metrics: Prometheus text parsed (per counter, per VM, per spoof reason, failed redirects per VM and errno), written atomically; --watch shows rates"
xvnetd_stop_rc=0
xvctl shutdown --teardown || xvnetd_stop_rc=$?
[ "$xvnetd_stop_rc" -eq 0 ] || fail "shutdown --teardown"
wait_until 5 _xv_dead "$XVD_PID" || fail "xvnetd did not exit"

pass "version, check-config, readiness (READY=1 after status answers), empty daemon, unit caps (tap, veth, xsk; CAP_NET_RAW named), config untouched, status exit 3, metrics, install/uninstall"
