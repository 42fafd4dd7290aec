# shellcheck shell=bash
# Sourced by bench.sh: row_xvnet_xsk, one xsk VM (AF_XDP socket on the NIC's
# RX queue, copy mode on veth) read by xvnet-xskdump on $RX_CPU, beside the
# NIC's NAPI thread, as tapread is in the tap rows.  Compare it with the
# ceiling row (XDP_DROP on the same NIC, same run).  After the measurement
# the socket's XDP_STATISTICS (drops at the socket) are logged and recorded.
# XSK_CPU (default $RX_CPU) moves the consumer to another CPU.

row_xvnet_xsk() {
	local stats=$XV_TMP/xsk.stats
	xvnetd_start
	"${CTL[@]}" vm add vm1 --mac "$VM_MAC" --port xsk --ifname "$(xv_name pxsk)" --xsk-frames 8192 \
		--xsk-fill-size 4096 --xsk-rx-size 2048 || fail "vm add (xsk) refused"
	bg_start "$XV_TMP/xskdump.log" taskset -c "${XSK_CPU:-$RX_CPU}" "$XV_BIN/xvnet-xskdump" \
		-s "$SOCK" --vm vm1 --stats "$stats"
	XSKDUMP_PID=$BG_PID
	wait_until 10 test -s "$stats" || fail "xskdump did not start: $(cat "$XV_TMP/xskdump.log")"
	measure xvnet-xsk "$stats"
	record "$("${CTL[@]}" -j stats vm1 | python3 -c '
import json, sys
x = json.load(sys.stdin)["vms"][0]["xsk"]
print(json.dumps({"row": "xvnet-xsk-socket", "mode": x["mode"],
                  "rx_dropped": x["rx_dropped"], "rx_ring_full": x["rx_ring_full"],
                  "fill_ring_empty": x["rx_fill_ring_empty_descs"]}))')"
	proc_stop "$XSKDUMP_PID"
	xvnetd_stop
}
