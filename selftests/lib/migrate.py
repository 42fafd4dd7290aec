#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Drive a live migration between two QEMUs on this host and move the VM's
xvnet port with it (DNIS, docs/dnis.md), as a libvirt migrate hook would:

  1. `vm move VM --port tap --ifname DST_TAP --prepare` (the destination's
     tap attached, not used yet);
  2. `migrate -d tcp:...` on the source's monitor;
  3. with QEMU's pause-before-switchover the source stops its vCPUs and
     waits ("pre-switchover", the monitor still answers): then
     `vm move VM --switch` (sent on xvnetd's socket, no process to start):
     from then on frames go to the destination's tap, where they wait for
     the destination to run instead of dying in the stopped source's tap;
     then `migrate_continue pre-switchover` (after
     $MIGRATE_CONTINUE_DELAY_MS, 2 by default).  (Without the capability the
     source's run state is polled, which the monitor answers only after
     stop-and-copy: frames of that downtime go to the stopped source.)
  4. until the migration completes and the destination runs; source quit.

Prints one JSON object of times (ms from the migrate command).
usage: migrate.py SRC_MON DST_MON PORT VM DST_TAP XVNETD_SOCK XVNETCTL [ARGS...]
MIGRATE_KILL_DST=PID: that destination QEMU is killed once the switch is done
(before the source continues); the migration must fail and the source run
again (printed then).
DST_TAP "-": the move is prepared already (onto a vhost-user port, whose
back-end the destination QEMU connects to when it starts).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time


class Hmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self._until_prompt()

    def _until_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("monitor closed")
            buf += chunk
        return buf.decode(errors="replace")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self._until_prompt()


def main():
    src_mon, dst_mon, port, vm, dst_tap, sock = sys.argv[1:7]
    ctl = sys.argv[7:]
    src, dst = Hmp(src_mon), Hmp(dst_mon)
    out = {}

    def run(*args):
        r = subprocess.run(ctl + ["-j", "vm", "move", vm] + list(args),
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("vm move %s: %s" % (" ".join(args), r.stderr.strip()))
        return json.loads(r.stdout)

    def switch_send():
        # straight on xvnetd's socket: the request is the switch's latency
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(sock)
        c.sendall(json.dumps({"cmd": "vm.move",
                              "args": {"name": vm, "switch": True}}).encode() + b"\n")
        return c

    def switch_reply(c):
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
        c.close()
        rep = json.loads(buf)
        if not rep.get("ok"):
            raise RuntimeError("vm move --switch: %s" % rep.get("error"))
        return rep["data"]

    if dst_tap != "-":
        out["prepare"] = run("--port", "tap", "--ifname", dst_tap, "--prepare")
    pause = "Error" not in src.cmd("migrate_set_capability pause-before-switchover on")
    out["pause_before_switchover"] = pause
    t0 = time.monotonic()
    out["t0_mono"] = t0
    ms = lambda: round((time.monotonic() - t0) * 1000, 1)
    r = src.cmd("migrate -d tcp:127.0.0.1:%s" % port)
    # a blocker (e.g. a vhost-user back-end without LOG_ALL) refuses it here
    if "Error" in r or "disabled" in r or "blocked" in r:
        # (the monitor echoes the typed line first; the answer is last)
        raise RuntimeError("migrate refused: " + r.strip().splitlines()[-1])
    deadline = time.monotonic() + 120
    while True:
        if time.monotonic() > deadline:
            raise RuntimeError("the source did not stop within 120 s: " + src.cmd("info migrate"))
        mi = src.cmd("info migrate") if pause else src.cmd("info status")
        if "Migration status: failed" in mi:
            raise RuntimeError("migration failed: " + mi)
        if (pause and "Migration status: pre-switchover" in mi) or \
           (not pause and "running" not in mi):
            out["source_stopped_ms"] = ms()
            out["source_state"] = "pre-switchover" if pause else \
                mi.split("VM status:")[-1].split("\n")[0].strip()
            break
        time.sleep(0.001)
    # the slot write comes first in xvnetd's handling of the request; its
    # reply waits for the commit (grace period, drain), which the source
    # need not wait for: it is stopped, and the destination's tap holds
    # what arrives until the destination runs
    c = switch_send()
    kill_dst = os.environ.get("MIGRATE_KILL_DST")
    if kill_dst:
        # the destination QEMU (that pid) dies once the switch is done (its
        # reply: the old port released): the migration fails, the source
        # runs on
        sw = switch_reply(c)
        os.kill(int(kill_dst), signal.SIGKILL)
        # dead (a zombie or gone: its sockets closed) before the source
        # sends the rest: a source that wrote its last bytes into the dying
        # QEMU's socket called the migration completed (seen on a loaded host)
        while time.monotonic() < deadline:
            try:
                with open("/proc/%s/stat" % kill_dst) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                        break
            except OSError:
                break
            time.sleep(0.001)
    if pause:
        # MIGRATE_CONTINUE_DELAY_MS: the source paused that long, as by a
        # slow hook (the source's port has moved meanwhile)
        time.sleep(float(os.environ.get("MIGRATE_CONTINUE_DELAY_MS", "2")) / 1000)
        src.cmd("migrate_continue pre-switchover")
        out["continued_ms"] = ms()
    if not kill_dst:
        sw = switch_reply(c)
    out["switched_ms"] = ms()
    out["switch"] = {k: sw[k] for k in ("switch_us", "drain_us", "drained", "rescued", "rescued_own")}
    if kill_dst:
        while "Migration status: failed" not in src.cmd("info migrate"):
            if time.monotonic() > deadline:
                raise RuntimeError("the migration did not fail within 120 s; the source: " +
                                   src.cmd("info migrate") + src.cmd("info status"))
            time.sleep(0.005)
        out["failed_ms"] = ms()
        while "running" not in src.cmd("info status"):
            if time.monotonic() > deadline:
                raise RuntimeError("the source did not run again within 120 s")
            time.sleep(0.005)
        out["source_running_ms"] = ms()
        print(json.dumps(out))
        return
    while True:
        mi = src.cmd("info migrate")
        if "Migration status: completed" in mi:
            out["completed_ms"] = ms()
            for line in mi.splitlines():
                if line.startswith("downtime:") or line.startswith("total time:"):
                    k, v = line.split(":", 1)
                    out["qemu_" + k.strip().replace(" ", "_")] = v.strip()
            break
        if "Migration status: failed" in mi:
            raise RuntimeError("migration failed: " + mi)
        if time.monotonic() > deadline:
            raise RuntimeError("the migration did not complete within 120 s: " + mi)
        time.sleep(0.005)
    while "running" not in dst.cmd("info status"):
        time.sleep(0.002)
    out["destination_running_ms"] = ms()
    try:
        src.cmd("quit")
    except (RuntimeError, OSError):
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
