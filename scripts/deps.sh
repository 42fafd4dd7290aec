#!/usr/bin/env bash
# Install every build, test and benchmark dependency from Debian packages.
# Idempotent and non-interactive: does nothing when all are present.
set -euo pipefail

PACKAGES=(
	make gcc clang llvm pkg-config        # toolchain; clang -target bpf
	libbpf-dev bpftool libxdp-dev         # BPF loading, skeletons, AF_XDP
	libcmocka-dev                         # unit-test framework
	libjson-c-dev libmnl-dev              # control socket JSON, netlink
	libsystemd-dev                        # sd_notify: Type=notify readiness
	scdoc                                 # man pages from docs/man/*.scd
	linux-libc-dev libc6-dev              # UAPI headers
	libclang-rt-14-dev                    # sanitizer runtimes for clang
	iproute2 ethtool iperf3 tcpdump       # selftests
	gnuplot-nox                           # benchmark plots
	liburing-dev                          # xvnet-tapread --io uring (bench tap reader)
	python3 python3-scapy                 # crafted frames in selftests
	jq                                    # selftests read JSON replies (a python3 start costs 40-400 ms here)
	python3-prometheus-client             # selftests parse `stats --prometheus`
	bash-completion                       # selftests try xvnetctl's completion
	qemu-system-x86 busybox-static cpio   # real-guest selftest, check-kernels
	libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu  # libvirt selftest, hook
	kmod xz-utils                         # check-kernels: modinfo, .ko.xz modules
	openvswitch-switch                    # benchmark peer: OVS userspace datapath, AF_XDP ports
	openvswitch-switch-dpdk librte-mempool-ring23  # bench ovs-vhost: OVS-DPDK's vhost-user port (the
	                                      # mbuf pools need the ring mempool driver, only a Recommends)
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
