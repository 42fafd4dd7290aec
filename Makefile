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
LOADER_SRCS := $(wildcard loader/*.c)
CTL_SRCS    := $(wildcard ctl/*.c)
TOOL_SRCS   := $(wildcard tools/*.c)
USER_HDRS   := $(wildcard lib/*.h loader/*.h ctl/*.h tools/*.h) $(BPF_HDRS)
USER_LIBS   := -ljson-c -lmnl -lxdp $(LDLIBS)

BINS := $(if $(LOADER_SRCS),$(BUILD)/bin/xvnetd) $(if $(CTL_SRCS),$(BUILD)/bin/xvnetctl) \
        $(patsubst tools/%.c,$(BUILD)/bin/%,$(TOOL_SRCS))

.PHONY: all deps test selftest check check-kernels clean demo bench bench-quick bench-coalesce install
.SECONDARY:
all: $(BPF_OBJS) $(SKELS) $(BINS)

deps:
	@bash scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/include/%.skel.h: $(BUILD)/bpf/%.bpf.o | $(BUILD)/include
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf $(BUILD)/include $(BUILD)/bin $(BUILD)/tests:
	mkdir -p $@

$(BUILD)/bin/xvnetd: $(LOADER_SRCS) $(LIB_SRCS) $(USER_HDRS) $(BUILD)/include/nic_rx.skel.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $(LOADER_SRCS) $(LIB_SRCS) -o $@ $(USER_LIBS)

$(BUILD)/bin/xvnetctl: $(CTL_SRCS) $(LIB_SRCS) $(USER_HDRS) | $(BUILD)/bin
	$(CC) $(CFLAGS) $(CTL_SRCS) $(LIB_SRCS) -o $@ $(USER_LIBS)

# Stand-alone tools (traffic generator, readers, consumers): one file each.
$(BUILD)/bin/%: tools/%.c $(SKELS) | $(BUILD)/bin
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS) -lpthread

# the generator probes live frames like xvnetd, and falls back to AF_PACKET
$(BUILD)/bin/xvnet-trafgen: tools/xvnet-trafgen.c tools/trafgen/af_packet.c lib/features.c \
		tools/trafgen/af_packet.h lib/features.h tools/trafgen_flow.h $(SKELS) | $(BUILD)/bin
	$(CC) $(CFLAGS) tools/xvnet-trafgen.c tools/trafgen/af_packet.c lib/features.c -o $@ $(LDLIBS)

# the xsk consumer reads xvnetd's JSON replies
$(BUILD)/bin/xvnet-xskdump: tools/xvnet-xskdump.c lib/coalesce.c lib/coalesce.h maps/xvnet_maps.h | $(BUILD)/bin
	$(CC) $(CFLAGS) $< lib/coalesce.c -o $@ -ljson-c

# Unit tests: one cmocka binary, built with ASan/UBSan.  It links the
# daemon's code (not its main) so user-space logic is tested in-process.
UNIT_SRCS := $(TEST_SRCS) $(LIB_SRCS) $(filter-out loader/main.c,$(LOADER_SRCS))
$(BUILD)/tests/unit: $(UNIT_SRCS) $(wildcard tests/*.h) $(USER_HDRS) $(SKELS) $(TEST_SKELS) | $(BUILD)/tests
	$(CC) $(CFLAGS) $(SAN_FLAGS) $(UNIT_SRCS) -o $@ $(USER_LIBS) -lcmocka

test: all $(BUILD)/tests/unit
	$(BUILD)/tests/unit

selftest: all
	bash selftests/run.sh

demo: all
	bash selftests/demo.sh

check: all $(BUILD)/tests/unit
	BUILD=$(BUILD) bash scripts/check.sh

# The unit tests on the host's kernel and on Debian's kernels in QEMU guests
# (selftests/kernels/kernels.list, fetched with apt-get download): docs/kernels.md.
check-kernels: all $(BUILD)/tests/unit
	BUILD=$(BUILD) bash scripts/check-kernels.sh

clean:
	rm -rf $(BUILD)

# Benchmarks: never timed tests.  bench-quick is for development (< 1 min).
bench: all
	bash selftests/bench/bench.sh
	bash selftests/bench/coalesce.sh

bench-coalesce: all
	bash selftests/bench/coalesce.sh

bench-quick: all
	REPS=1 WARM=0.5 DUR=1 SCALING=0 OUT=$(BUILD)/bench/results.json bash selftests/bench/bench.sh

# Install the daemon, the ctl tool, the tools and the systemd unit.
PREFIX ?= /usr
install: all
	install -D -m 0755 $(BUILD)/bin/xvnetd $(DESTDIR)$(PREFIX)/sbin/xvnetd
	install -D -m 0755 $(BUILD)/bin/xvnetctl $(DESTDIR)$(PREFIX)/bin/xvnetctl
	for t in $(patsubst tools/%.c,%,$(TOOL_SRCS)); do \
		install -D -m 0755 $(BUILD)/bin/$$t $(DESTDIR)$(PREFIX)/bin/$$t || exit 1; done
	install -D -m 0644 loader/xvnetd.service $(DESTDIR)/etc/systemd/system/xvnetd.service
	install -D -m 0644 docs/xvnetctl.md $(DESTDIR)$(PREFIX)/share/doc/xvnet/xvnetctl.md
	@if [ -e $(DESTDIR)/etc/libvirt/hooks/qemu ] && ! grep -q xvnet-hook $(DESTDIR)/etc/libvirt/hooks/qemu; then echo "install: $(DESTDIR)/etc/libvirt/hooks/qemu is another hook: left as is; xvnet's is scripts/libvirt-hook-qemu (docs/vmm.md)" >&2; else install -D -m 0755 scripts/libvirt-hook-qemu $(DESTDIR)/etc/libvirt/hooks/qemu; fi
