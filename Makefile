# xvnet: one entry point.  `make`, `make deps`, `make test`, `make selftest`,
# `make check` (both), `make check-kernels`, `make demo`, `make bench`,
# `make install`.

BUILD    ?= build
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
ARCH     := $(shell uname -m)

WARN       := -Wall -Wextra -Werror
BPF_CFLAGS := -target bpf -g -O2 $(WARN) -Wno-unused-function \
              -I. -I/usr/include/$(ARCH)-linux-gnu
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 $(WARN) -I. -I$(BUILD)/include
LDLIBS     := -lbpf -lelf -lz
# sd_notify (readiness for systemd's Type=notify): Debian's libsystemd-dev
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined

BPF_SRCS      := $(wildcard bpf/*.bpf.c)
TEST_BPF_SRCS := $(wildcard tests/bpf/*.bpf.c)
BPF_OBJS      := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
TEST_BPF_OBJS := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(TEST_BPF_SRCS))
SKELS         := $(patsubst $(BUILD)/bpf/%.bpf.o,$(BUILD)/include/%.skel.h,$(BPF_OBJS))
TEST_SKELS    := $(patsubst $(BUILD)/bpf/%.bpf.o,$(BUILD)/include/%.skel.h,$(TEST_BPF_OBJS))
BPF_HDRS      := $(wildcard bpf/*.h) maps/xvnet_maps.h tools/trafgen_flow.h

TEST_SRCS   := $(wildcard tests/*.c)
LIB_SRCS    := $(wildcard lib/*.c)
LOADER_SRCS := $(wildcard loader/*.c loader/conf/*.c loader/kern/*.c loader/api/*.c)
CTL_SRCS    := $(wildcard ctl/*.c)
TOOL_SRCS   := $(wildcard tools/*.c)
VHOST_SRCS  := $(filter-out vhost/main.c,$(wildcard vhost/*.c))
USER_HDRS   := $(wildcard lib/*.h loader/*.h loader/conf/*.h loader/kern/*.h loader/api/*.h ctl/*.h tools/*.h) $(BPF_HDRS)
USER_LIBS   := -ljson-c -lmnl -lxdp $(SYSTEMD_LIBS) $(LDLIBS)

BINS := $(if $(LOADER_SRCS),$(BUILD)/bin/xvnetd) $(if $(CTL_SRCS),$(BUILD)/bin/xvnetctl) \
        $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_SRCS)) $(BUILD)/bin/xvnet-vhost

# The version lives in one place, the file VERSION; a git checkout adds the
# commit (0.1.0+g1a2b3c4, -dirty with local changes).  The header is
# rewritten only when the text changes, so a commit alone rebuilds only
# what prints it.
VERSION_BASE := $(shell cat VERSION)
GIT_REV      := $(shell git rev-parse --short HEAD 2>/dev/null)
GIT_DIRTY    := $(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
XV_VERSION   := $(VERSION_BASE)$(if $(GIT_REV),+g$(GIT_REV)$(GIT_DIRTY))

MANS := $(BUILD)/man/xvnetd.8 $(BUILD)/man/xvnetctl.8 $(BUILD)/man/xvnetd.conf.5
UNIT := $(BUILD)/xvnetd.service
METRICS_UNIT := $(BUILD)/xvnet-metrics.service
WATCH_UNIT := $(BUILD)/xvnet-libvirt-watch.service

.PHONY: all deps test selftest check check-layers check-kernels clean demo bench bench-quick bench-coalesce \
	install uninstall install-libvirt-hook uninstall-libvirt-hook man fuzz fuzz-build FORCE
.SECONDARY:
all: $(BPF_OBJS) $(SKELS) $(BINS) $(UNIT) $(METRICS_UNIT) $(WATCH_UNIT) $(MANS)

$(BUILD)/include/xv_version.h: FORCE | $(BUILD)/include
	@echo '#define XV_VERSION "$(XV_VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

deps:
	@bash scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/include
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf $(BUILD)/include $(BUILD)/bin $(BUILD)/tests $(BUILD)/man:
	mkdir -p $@

$(BUILD)/bin/xvnetd: $(LOADER_SRCS) $(LIB_SRCS) $(USER_HDRS) $(BUILD)/include/nic_rx.skel.h \
		$(BUILD)/include/xv_version.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $(LOADER_SRCS) $(LIB_SRCS) -o $@ $(USER_LIBS)

$(BUILD)/bin/xvnetctl: $(CTL_SRCS) $(LIB_SRCS) $(USER_HDRS) $(BUILD)/include/xv_version.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $(CTL_SRCS) $(LIB_SRCS) -o $@ $(USER_LIBS)

# Stand-alone tools (traffic generator, readers, consumers): one file each.
$(BUILD)/bin/%: tools/%.c $(SKELS) | $(BUILD)/bin
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS) -lpthread

# the generator probes live frames like xvnetd, and falls back to AF_PACKET
$(BUILD)/bin/xvnet-trafgen: tools/xvnet-trafgen.c tools/trafgen/af_packet.c lib/features.c \
		tools/trafgen/af_packet.h lib/features.h tools/trafgen_flow.h $(SKELS) | $(BUILD)/bin
	$(CC) $(CFLAGS) tools/xvnet-trafgen.c tools/trafgen/af_packet.c lib/features.c -o $@ $(LDLIBS)

# nic_rx against the trivial redirect by test runs (probes the data path as xvnetd)
$(BUILD)/bin/xvnet-costbench: tools/xvnet-costbench.c lib/features.c lib/features.h \
		lib/xsk_rx.c lib/xsk_rx.h $(BPF_HDRS) \
		$(SKELS) | $(BUILD)/bin
	$(CC) $(CFLAGS) tools/xvnet-costbench.c lib/features.c lib/xsk_rx.c -o $@ $(LDLIBS)

# the tap reader reads with read() or io_uring (Debian's liburing-dev)
$(BUILD)/bin/xvnet-tapread: tools/xvnet-tapread.c bpf/sinkflow.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $< -o $@ -luring -lpthread

# the numbered stream of the vm move test share their frame layout
$(BUILD)/bin/xvnet-seqgen $(BUILD)/bin/xvnet-seqrecv: $(BUILD)/bin/%: tools/%.c tools/seq_proto.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $< -o $@

# the xsk consumer reads xvnetd's JSON replies
XSK_CONSUMER_LIB := lib/xsk_client.c lib/coalesce.c lib/privdrop.c lib/statsfile.c
# (and, like the vhost-user sink, the send stamps of the latency series)
$(BUILD)/bin/xvnet-xskdump: tools/xvnet-xskdump.c $(XSK_CONSUMER_LIB) $(XSK_CONSUMER_LIB:.c=.h) \
		lib/stamp.c lib/stamp.h maps/xvnet_maps.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $< $(XSK_CONSUMER_LIB) lib/stamp.c -o $@ -ljson-c

# the vhost-user back-end of xsk VMs (docs/vhost-user.md): its own directory
$(BUILD)/bin/xvnet-vhost: vhost/main.c $(VHOST_SRCS) $(wildcard vhost/*.h) $(XSK_CONSUMER_LIB) \
		$(XSK_CONSUMER_LIB:.c=.h) lib/cpus.c lib/cpus.h lib/parse.c lib/parse.h \
		maps/xvnet_maps.h | $(BUILD)/bin
	$(CC) $(CFLAGS) vhost/main.c $(VHOST_SRCS) $(XSK_CONSUMER_LIB) lib/cpus.c lib/parse.c \
		-o $@ -ljson-c

# a vhost-user front-end that counts what a back-end delivers (the bench's guest)
$(BUILD)/bin/xvnet-vhostsink: tools/xvnet-vhostsink.c tools/vhostfe/frontend.c \
		tools/vhostfe/frontend.h vhost/vu_msg.h lib/statsfile.c lib/statsfile.h \
		lib/stamp.c lib/stamp.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $< tools/vhostfe/frontend.c lib/statsfile.c lib/stamp.c -o $@

# Unit tests: one cmocka binary, built with ASan/UBSan.  It links the
# daemon's code (not its main) so user-space logic is tested in-process.
UNIT_SRCS := $(TEST_SRCS) $(LIB_SRCS) $(filter-out loader/main.c,$(LOADER_SRCS)) $(VHOST_SRCS) \
             tools/vhostfe/frontend.c
$(BUILD)/tests/unit: $(UNIT_SRCS) $(wildcard tests/*.h) $(wildcard vhost/*.h) \
		tools/vhostfe/frontend.h $(USER_HDRS) $(SKELS) $(TEST_SKELS) \
		$(BUILD)/include/xv_version.h | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(UNIT_SRCS) -o $@ $(USER_LIBS) -lcmocka

# loader/conf/ alone: its tests link no libbpf, json-c or netlink and run
# without root (scripts/check-layers.sh builds and runs them).
CONF_UNIT_SRCS := tests/conf/main.c tests/test_diff.c tests/test_knobs.c \
		  $(wildcard loader/conf/*.c) lib/parse.c lib/cpus.c lib/coalesce.c
$(BUILD)/tests/conf: $(CONF_UNIT_SRCS) $(wildcard loader/conf/*.h lib/*.h tests/*.h) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(CONF_UNIT_SRCS) -o $@ -lcmocka

# libFuzzer targets (tests/fuzz/, docs/security.md "Fuzzing"): clang with
# -fsanitize=fuzzer, each linked with the code it exercises.  `make fuzz`
# runs each for FUZZ_SECONDS; `make check` runs each for a few seconds on
# the committed corpus (scripts/fuzz.sh; SKIP when libFuzzer is missing).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -g -O1 -std=gnu11 -Wall -Wextra -Werror -I. -I$(BUILD)/include \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_NAMES))
FUZZ_DAEMON  := $(filter-out loader/main.c,$(LOADER_SRCS)) $(LIB_SRCS)
$(BUILD)/fuzz:
	mkdir -p $@
$(BUILD)/fuzz/fuzz_values: tests/fuzz/fuzz_values.c lib/parse.c $(USER_HDRS) | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< lib/parse.c -o $@
$(BUILD)/fuzz/fuzz_frame: tests/fuzz/fuzz_frame.c lib/spoof.c $(USER_HDRS) | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< lib/spoof.c -o $@
$(BUILD)/fuzz/fuzz_fastparse: tests/fuzz/fuzz_fastparse.c bpf/fastparse.h bpf/parse.h | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< -o $@
$(BUILD)/fuzz/fuzz_txoffload: tests/fuzz/fuzz_txoffload.c vhost/tx_offload.c vhost/tx_offload.h | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< vhost/tx_offload.c -o $@
$(BUILD)/fuzz/fuzz_vhostmsg: tests/fuzz/fuzz_vhostmsg.c $(VHOST_SRCS) $(wildcard vhost/*.h) | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< vhost/vu_dev.c vhost/vu_mem.c vhost/vu_log.c vhost/virtq.c -o $@
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DAEMON) $(USER_HDRS) $(SKELS) \
		$(BUILD)/include/xv_version.h | $(BUILD)/fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(FUZZ_DAEMON) -o $@ $(USER_LIBS)
fuzz-build: $(FUZZ_BINS)
fuzz:
	BUILD=$(BUILD) bash scripts/fuzz.sh $(FUZZ_SECONDS)

test: all $(BUILD)/tests/unit
	$(BUILD)/tests/unit

selftest: all
	bash selftests/run.sh

demo: all
	bash selftests/demo.sh

check: all $(BUILD)/tests/unit $(BUILD)/tests/conf
	BUILD=$(BUILD) bash scripts/check.sh

# the layers include one way (conf/ <- kern/ <- api/; also in check)
check-layers: $(BUILD)/tests/conf
	BUILD=$(BUILD) bash scripts/check-layers.sh

# The unit tests on the host's kernel and on Debian's kernels in QEMU guests
# (selftests/kernels/kernels.list, fetched with apt-get download): docs/kernels.md.
check-kernels: all $(BUILD)/tests/unit
	BUILD=$(BUILD) bash scripts/check-kernels.sh

clean:
	rm -rf $(BUILD)

# Benchmarks: never timed tests.  Each compared pair in interleaved rounds
# (docs/PERFORMANCE.md).  CPU heavy: run them under the machine-wide lock
# that QEMU tests take too, `flock /tmp/xvnet-qemu.lock make bench`.
# bench: ~12 min (coalescing included); bench-quick: < 2 min, for development.
bench: all
	bash selftests/bench/bench.sh
	bash selftests/bench/coalesce.sh

bench-coalesce: all
	bash selftests/bench/coalesce.sh

bench-quick: all
	ROUNDS=3 DUR=1 WARM=0.3 PAIRS="veth core flows tap xsk" FLOWS="1 100000" CP=0 \
		COST_ARGS="--rounds 3 --repeat 500000 --single 20000 --configs 1vm,1vm-single,flows-1,xsk" \
		OUT=$(BUILD)/bench/results.json bash selftests/bench/bench.sh

# The systemd unit, with the paths of this PREFIX (a unit installed under
# /usr/local must start /usr/local/sbin/xvnetd).
PREFIX ?= /usr
SBINDIR := $(PREFIX)/sbin
BINDIR  := $(PREFIX)/bin
DOCDIR  := $(PREFIX)/share/doc/xvnet
LIBDIR  := $(PREFIX)/lib
$(BUILD)/%.service: systemd/%.service.in FORCE | $(BUILD)/bin
	@sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@BINDIR@|$(BINDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' $< > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Man pages from their scdoc sources in docs/man (Debian's scdoc).
man: $(MANS)
$(BUILD)/man/%: docs/man/%.scd | $(BUILD)/man
	scdoc < $< > $@.tmp && mv $@.tmp $@

# What `make install` puts where: MODE:SOURCE:DESTINATION under PREFIX.  One
# list, so that `make uninstall` removes exactly what was installed.  The
# test and benchmark tools go to lib/xvnet (not on PATH); the xsk consumer
# is a user's command.
TEST_TOOLS := xvnet-trafgen xvnet-tapread xvnet-xdpsink xvnet-flowfill xvnet-xdpswap xvnet-costbench \
              xvnet-vhostsink
DOCS       := README.md $(wildcard docs/*.md)
INSTALLS := \
	0755:$(BUILD)/bin/xvnetd:sbin/xvnetd \
	0755:$(BUILD)/bin/xvnetctl:bin/xvnetctl \
	0755:$(BUILD)/bin/xvnet-xskdump:bin/xvnet-xskdump \
	0755:$(BUILD)/bin/xvnet-vhost:bin/xvnet-vhost \
	$(foreach t,$(TEST_TOOLS),0755:$(BUILD)/bin/$(t):lib/xvnet/$(t)) \
	0644:$(UNIT):lib/systemd/system/xvnetd.service \
	0644:$(METRICS_UNIT):lib/systemd/system/xvnet-metrics.service \
	0644:$(WATCH_UNIT):lib/systemd/system/xvnet-libvirt-watch.service \
	0644:systemd/xvnet-metrics.timer:lib/systemd/system/xvnet-metrics.timer \
	0644:$(BUILD)/man/xvnetd.8:share/man/man8/xvnetd.8 \
	0644:$(BUILD)/man/xvnetctl.8:share/man/man8/xvnetctl.8 \
	0644:$(BUILD)/man/xvnetd.conf.5:share/man/man5/xvnetd.conf.5 \
	0644:ctl/xvnetctl.bash-completion:share/bash-completion/completions/xvnetctl \
	0644:docs/examples/xvnetd.conf:share/doc/xvnet/examples/xvnetd.conf \
	0755:scripts/libvirt-hook-qemu:lib/xvnet/libvirt-hook-qemu \
	$(foreach d,$(DOCS),0644:$(d):share/doc/xvnet/$(notdir $(d)))
# directories of ours that uninstall removes when empty (deepest first)
INSTALL_DIRS := lib/xvnet share/doc/xvnet/examples share/doc/xvnet

install: all
	@set -e; for e in $(INSTALLS); do \
		m=$${e%%:*}; r=$${e#*:}; src=$${r%%:*}; dst=$(DESTDIR)$(PREFIX)/$${r#*:}; \
		echo "install $$src $$dst"; install -D -m $$m $$src $$dst; done

# The libvirt hook lives in /etc (the admin's): only on request, and never
# over another hook.  `make install` puts it in $(PREFIX)/lib/xvnet.
install-libvirt-hook:
	@if [ -e $(DESTDIR)/etc/libvirt/hooks/qemu ] && ! grep -q xvnet-hook $(DESTDIR)/etc/libvirt/hooks/qemu; then echo "install: $(DESTDIR)/etc/libvirt/hooks/qemu is another hook: left as is; xvnet's is scripts/libvirt-hook-qemu (docs/vmm.md)" >&2; exit 1; else echo "install scripts/libvirt-hook-qemu $(DESTDIR)/etc/libvirt/hooks/qemu"; install -D -m 0755 scripts/libvirt-hook-qemu $(DESTDIR)/etc/libvirt/hooks/qemu; fi

uninstall:
	@for e in $(INSTALLS); do \
		dst=$(DESTDIR)$(PREFIX)/$${e##*:}; \
		[ -e $$dst ] && echo "rm $$dst"; rm -f $$dst; done; \
	for d in $(INSTALL_DIRS); do \
		rmdir $(DESTDIR)$(PREFIX)/$$d 2>/dev/null || true; done

uninstall-libvirt-hook:
	@! grep -qs xvnet-hook $(DESTDIR)/etc/libvirt/hooks/qemu || { echo "rm $(DESTDIR)/etc/libvirt/hooks/qemu"; rm -f $(DESTDIR)/etc/libvirt/hooks/qemu; }
