#!/usr/bin/env bash
# Who may attach to a VM's tap (TUNSETIFF, as a VMM does): the taps xvnetd
# creates get an owner and/or a group, root only by default.
#
#  - control: a tap made with `ip tuntap add` and no user is open to any
#    user (the attacker here is `nobody`), which is what xvnetd must not do;
#  - vm add without --owner/--group: owner root in sysfs; nobody gets EPERM,
#    root attaches;
#  - --owner nobody: nobody attaches, another UID gets EPERM;
#  - --group nogroup: a UID in that group attaches, one outside gets EPERM;
#  - --owner and --group together: the user must be both (the kernel's rule);
#  - multi-queue taps keep the owner for every queue;
#  - refused, with a message naming the field and nothing changed (no tap
#    created, VM list and config file as before): an unknown user or group,
#    --owner on a veth port, an existing tap whose owner differs (left as it
#    was, not deleted);
#  - the config file and `vm show -j` carry owner/group; a restart keeps them.
#
# /dev/net/tun is opened as root before the switch to the other user
# (selftests/lib/tap_attach.py): stock Debian has it 0666, so any user gets
# that far, and only the tap's own check stands in the way.
# shellcheck source=selftests/lib/common.sh
. "$(dirname "$0")/lib/common.sh"
# shellcheck source=selftests/lib/xvnet.sh
. "$(dirname "$0")/lib/xvnet.sh"

xvnet_require
require_file /dev/net/tun
NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
NOGROUP=$(getent group nogroup | cut -d: -f3)
[ -n "$NOGROUP" ] || skip "no group nogroup"
OTHER=4242      # a UID with no name and no group of ours: any other user

xv_topology
xvnetd_start

# attach TAP UID GID [QUEUES]: prints attached or the errno name
attach() { "$SCAPY_PY" "$XV_ROOT/selftests/lib/tap_attach.py" "$@"; }
expect_attach() { # WHAT TAP UID GID [QUEUES]
	local what=$1 out; shift
	out=$(attach "$@") || fail "$what: attach as $2:$3 failed: $out"
	log "$what: uid $2 gid $3: $out"
}
expect_eperm() { # WHAT TAP UID GID [QUEUES]
	local what=$1 out rc; shift
	out=$(attach "$@"); rc=$?
	[ $rc -eq 1 ] && [ "$out" = EPERM ] || fail "$what: uid $2 gid $3 got '$out' (rc $rc), expected EPERM"
	log "$what: uid $2 gid $3: $out"
}
sysfs() { cat "/sys/class/net/$1/$2"; }

# ---- control: an ownerless tap is open to everyone
T0=$(xv_name t0)
tap_create "$T0"
expect_attach "ip tuntap tap without a user (control)" "$T0" "$NOBODY" "$NOGROUP"

# ---- default: root only
T1=$(xv_name t1)
cleanup_add link_del "$T1"
xvctl vm add t1 --mac 02:00:00:00:66:01 --port tap --ifname "$T1" || fail "vm add t1"
[ "$(sysfs "$T1" owner)" = 0 ] || fail "t1: owner $(sysfs "$T1" owner), expected 0 (root)"
[ "$(sysfs "$T1" group)" = -1 ] || fail "t1: group $(sysfs "$T1" group), expected none"
expect_eperm "default tap" "$T1" "$NOBODY" "$NOGROUP"
expect_eperm "default tap" "$T1" $OTHER "$NOGROUP"
expect_attach "default tap" "$T1" 0 0

# ---- --owner nobody
T2=$(xv_name t2)
cleanup_add link_del "$T2"
xvctl vm add t2 --mac 02:00:00:00:66:02 --port tap --ifname "$T2" --owner nobody || fail "vm add t2"
[ "$(sysfs "$T2" owner)" = "$NOBODY" ] || fail "t2: owner $(sysfs "$T2" owner)"
expect_attach "--owner nobody" "$T2" "$NOBODY" "$NOGROUP"
expect_eperm "--owner nobody" "$T2" $OTHER $OTHER
expect_eperm "--owner nobody" "$T2" $OTHER "$NOGROUP"

# ---- --group nogroup (by number here: both forms are accepted)
T3=$(xv_name t3)
cleanup_add link_del "$T3"
xvctl vm add t3 --mac 02:00:00:00:66:03 --port tap --ifname "$T3" --group "$NOGROUP" || fail "vm add t3"
[ "$(sysfs "$T3" owner)" = -1 ] || fail "t3: owner $(sysfs "$T3" owner), expected none"
[ "$(sysfs "$T3" group)" = "$NOGROUP" ] || fail "t3: group $(sysfs "$T3" group)"
expect_attach "--group nogroup" "$T3" $OTHER "$NOGROUP"
expect_eperm "--group nogroup" "$T3" $OTHER $OTHER

# ---- both: the owner, in the group; a 4-queue tap, every queue
T4=$(xv_name t4)
cleanup_add link_del "$T4"
xvctl vm add t4 --mac 02:00:00:00:66:04 --port tap --ifname "$T4" --queues 4 \
	--owner $OTHER --group nogroup || fail "vm add t4"
expect_attach "--owner $OTHER --group nogroup, 4 queues" "$T4" $OTHER "$NOGROUP" 4
expect_eperm "--owner $OTHER --group nogroup, 4 queues" "$T4" $OTHER $OTHER 4
expect_eperm "--owner $OTHER --group nogroup, 4 queues" "$T4" "$NOBODY" "$NOGROUP" 4

# ---- recorded: config file, vm show -j, vm list
grep -q "^vm t2 .* owner nobody" "$XVD_STATE" || fail "state: $(grep '^vm t2' "$XVD_STATE")"
grep -q "^vm t4 .* owner $OTHER group nogroup" "$XVD_STATE" || fail "state: $(grep '^vm t4' "$XVD_STATE")"
xvctl -j vm show t2 | grep -q "\"owner_uid\": $NOBODY" || fail "vm show -j t2: $(xvctl -j vm show t2)"
xvctl vm list | grep -q "^t3 .* group $NOGROUP" || fail "vm list: $(xvctl vm list)"

# ---- refusals change nothing
snapshot() {   # (operstate settles on its own after the attaches above)
	{ xvctl -j vm list | grep -v '"state":'; cat "$XVD_STATE"
	  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
		awk -v p="$XV_PREFIX" 'index($0, p) == 1' | sort; } >"$1"
}
refuse() { # FIELD-MESSAGE ARGS...
	local want=$1 out rc; shift
	snapshot "$XV_TMP/before"
	out=$(xvctl vm add "$@" 2>&1); rc=$?
	[ $rc -eq 1 ] || fail "vm add $*: exit $rc, expected 1 (refused): $out"
	[[ "$out" == *"$want"* ]] || fail "vm add $*: '$out' does not say '$want'"
	snapshot "$XV_TMP/after"
	cmp -s "$XV_TMP/before" "$XV_TMP/after" ||
		fail "vm add $* changed state: $(diff "$XV_TMP/before" "$XV_TMP/after")"
	log "refused: $out"
}
T5=$(xv_name t5)
cleanup_add link_del "$T5"
refuse "owner: no user 'xgi-no-such-user' on this host" \
	t5 --mac 02:00:00:00:66:05 --port tap --ifname "$T5" --owner xgi-no-such-user
refuse "group: no group 'xgi-no-such-group' on this host" \
	t5 --mac 02:00:00:00:66:05 --port tap --ifname "$T5" --group xgi-no-such-group
refuse "owner: '4294967295' out of range" \
	t5 --mac 02:00:00:00:66:05 --port tap --ifname "$T5" --owner 4294967295
NS5=$(xv_name n5)
ns_create "$NS5"
refuse "owner: only for tap and vhost-user ports" \
	t5 --mac 02:00:00:00:66:05 --port veth --netns "$NS5" --ifname "$T5" --owner nobody
# a tap someone else made, owned by another user: not taken over
ip tuntap add dev "$T5" mode tap user $OTHER || fail "ip tuntap add $T5"
refuse "owner: tap '$T5' exists with owner $OTHER, not $NOBODY" \
	t5 --mac 02:00:00:00:66:05 --port tap --ifname "$T5" --owner nobody
[ "$(sysfs "$T5" owner)" = $OTHER ] || fail "$T5's owner changed"
# adopted as it is when no owner is asked for; an ownerless one is logged
xvctl vm add t0 --mac 02:00:00:00:66:06 --port tap --ifname "$T0" || fail "vm add t0 (adopt)"
grep -q "tap $T0 has no owner and no group" "$XV_TMP/xvnetd.log" ||
	fail "no warning for the ownerless tap $T0"

# ---- a restart adopts the taps as they are
xvnetd_restart
[ "$(sysfs "$T2" owner)" = "$NOBODY" ] || fail "t2 after restart: owner $(sysfs "$T2" owner)"
expect_eperm "--owner nobody, after a restart" "$T2" $OTHER $OTHER
expect_attach "--owner nobody, after a restart" "$T2" "$NOBODY" "$NOGROUP"

pass "taps root-only by default, --owner/--group enforced by the kernel (EPERM for others), bad values refused with nothing changed"
