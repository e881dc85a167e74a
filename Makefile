# rivet: a hardened RISC-V VMM.  See README.md.
#
#   make            build/riscv64/rivet (static, via the trixie chroot) and the
#                   x86_64 build of the portable code
#   make setup      install and cache everything (idempotent)
#   make test       setup, unit tests (plain + ASan/UBSan), e2e tests
#   make unit       unit tests only (x86_64, fast)
#   make e2e        end-to-end tests on the emulated RISC-V host
#   make acpi-check ACPI tables disassembled by iasl, compared with golden
#   make demo       boot the demo MicroVM on the emulated host
#   make demo-debian boot the stock Debian image on the virt board (UEFI)
#   make bench      rivet vs QEMU: boot time, memory, disk; results in
#                   build/bench/ only
#   make bench-docs the last 'make bench' run's table into docs/benchmarks.md

RIVET_CACHE ?= /var/cache/rivet
export RIVET_CACHE
VERSION := 0.1.0

BUILD := build
# V=1 shows full compiler command lines.
Q := $(if $(V),,@)
SRCS_ALL := $(shell find src seccomp -name '*.c' | sort)
ARCH_SRCS := $(filter src/arch/%,$(SRCS_ALL)) src/vmm.c src/vmm_snapshot.c \
	src/cmd/main.c \
	src/cmd/run.c
PORTABLE_SRCS := $(filter-out $(ARCH_SRCS),$(SRCS_ALL))
UNIT_TESTS := $(basename $(notdir $(wildcard tests/unit/test_*.c)))
# Test support (tests/support/): what unit tests and fuzz targets share;
# never part of rivet.
SUPPORT_SRCS := $(wildcard tests/support/*.c)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -Isrc -I. -D_GNU_SOURCE \
	-DRIVET_VERSION='"$(VERSION)"' -fno-strict-aliasing \
	-fstack-protector-strong -fstack-clash-protection
# Each object depends on the headers it includes (compiler-written .d
# files, read at the end) and on this Makefile (its flags).
DEPFLAGS = -MMD -MP

# ---- x86_64: portable code + unit tests -------------------------------------
X86 := $(BUILD)/x86_64
X86_CFLAGS := $(BASE_CFLAGS) -D_FORTIFY_SOURCE=2
SAN := $(BUILD)/x86_64-san
SAN_CFLAGS := $(BASE_CFLAGS) -O1 -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_LIBS := -lcmocka -lfdt -lseccomp -ljansson -lpthread

# Keep test objects (pattern-rule intermediates) for incremental builds.
# Named, not a bare .SECONDARY: that would also let a missing library
# object count as up to date.
.SECONDARY: $(UNIT_TESTS:%=$(BUILD)/x86_64/obj/tests/unit/%.o) \
	$(UNIT_TESTS:%=$(BUILD)/x86_64-san/obj/tests/unit/%.o)

.PHONY: all x86 riscv64 setup test unit unit-plain unit-san e2e demo demo-debian bench bench-docs clean acpi-check \
	check-setup help sysinject-check

all: x86 riscv64

help:
	@sed -n '3,/^$$/{/^$$/d;p}' Makefile

x86: $(X86)/librivet.a $(addprefix $(X86)/tests/,$(UNIT_TESTS)) \
	$(X86)/sysinject $(X86)/sysinject-target $(X86)/qmp-shape

$(X86)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $<',true)
	$(Q)$(CC) $(X86_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(SAN)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC-SAN  $<',true)
	$(Q)$(CC) $(SAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(X86)/librivet.a: $(PORTABLE_SRCS:%.c=$(X86)/obj/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(SAN)/librivet.a: $(PORTABLE_SRCS:%.c=$(SAN)/obj/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(X86)/libsupport.a: $(SUPPORT_SRCS:%.c=$(X86)/obj/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(SAN)/libsupport.a: $(SUPPORT_SRCS:%.c=$(SAN)/obj/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(X86)/tests/%: $(X86)/obj/tests/unit/%.o $(X86)/libsupport.a \
		$(X86)/librivet.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(X86_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(SAN)/tests/%: $(SAN)/obj/tests/unit/%.o $(SAN)/libsupport.a \
		$(SAN)/librivet.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(TEST_LIBS)

unit-plain: $(addprefix $(X86)/tests/,$(UNIT_TESTS))
	@tests/run-unit.sh $(X86)/tests $(UNIT_TESTS)

unit-san: $(addprefix $(SAN)/tests/,$(UNIT_TESTS))
	@tests/run-unit.sh $(SAN)/tests $(UNIT_TESTS)

# The e2e seccomp test's syscall injector (tests/sysinject), checked here
# against rivet's own filters and SIGSYS handler.
$(X86)/sysinject: tests/sysinject/sysinject.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(X86_CFLAGS) -o $@ $<

$(X86)/sysinject-target: $(X86)/obj/tests/sysinject/target.o $(X86)/librivet.a
	$(Q)$(CC) $(X86_CFLAGS) -o $@ $^ -lseccomp -lpthread

# The QMP e2e test's comparison of rivet's replies with QEMU's.
$(X86)/qmp-shape: tests/qmp/shape.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(X86_CFLAGS) -o $@ $< -ljansson

sysinject-check: $(X86)/sysinject $(X86)/sysinject-target
	@tests/sysinject/check.sh $(X86)

# Fuzz targets (tests/fuzz/fuzz.mk) add a corpus replay to the unit tests.
FUZZ_REPLAY :=
-include tests/fuzz/fuzz.mk

unit:
	@rm -f $(BUILD)/results/unit-*.tap $(BUILD)/results/fuzz-*.tap
	@$(MAKE) --no-print-directory unit-plain unit-san $(FUZZ_REPLAY) \
	 sysinject-check; \
	 rc=$$?; tests/summary.sh $(BUILD)/results/unit-*.tap \
	 $(BUILD)/results/fuzz-*.tap; exit $$rc

# ---- riscv64: the VMM itself, built in the trixie chroot --------------------
RV := $(BUILD)/riscv64
RV_CC := riscv64-linux-gnu-gcc
RV_CFLAGS := $(BASE_CFLAGS) -D_FORTIFY_SOURCE=3 -fPIE
RV_LDFLAGS := -static-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack
RV_LIBS := -lfdt -lseccomp -ljansson -lpthread

riscv64: check-setup
	@scripts/in-chroot.sh make --no-print-directory cross

.PHONY: cross
cross: $(RV)/rivet $(RV)/benchrun $(RV)/sysinject $(RV)/sbifail.Image \
	$(RV)/irqsnap.Image

$(RV)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC-RV   $<',true)
	$(Q)$(RV_CC) $(RV_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(RV)/rivet: $(SRCS_ALL:%.c=$(RV)/obj/%.o)
	@$(if $(Q),echo '  LD-RV   $@',true)
	$(Q)$(RV_CC) $(RV_CFLAGS) $(RV_LDFLAGS) -o $@ $^ $(RV_LIBS)

# make bench's launcher, run inside the emulated host (tests/bench).
$(RV)/benchrun: tests/bench/benchrun.c
	@$(if $(Q),echo '  CC-RV   $<',true)
	$(Q)$(RV_CC) $(BASE_CFLAGS) -O2 -static -o $@ $<

# The seccomp e2e test's syscall injector, run inside the emulated host
# (tests/e2e/host/seccomp.sh).
$(RV)/sysinject: tests/sysinject/sysinject.c
	@$(if $(Q),echo '  CC-RV   $<',true)
	$(Q)$(RV_CC) $(BASE_CFLAGS) -O2 -static -o $@ $<

# The QMP e2e test's guest that reports a failure (tests/guest/sbifail).
$(RV)/sbifail.Image: tests/guest/sbifail/sbifail.S tests/guest/image_header.S
	@$(if $(Q),echo '  AS-RV   $<',true)
	$(Q)$(RV_CC) -nostdlib -static -Wl,-Ttext=0 -Wl,--build-id=none \
		-o $(RV)/sbifail.elf $<
	$(Q)riscv64-linux-gnu-objcopy -O binary $(RV)/sbifail.elf $@

# The snapshot e2e test's bare-metal guest with interrupts in flight
# (tests/guest/irqsnap): position-independent code, linked at 0.
IRQSNAP_SRC := tests/guest/irqsnap/start.S tests/guest/irqsnap/irqsnap.c
IRQSNAP_DEPS := $(IRQSNAP_SRC) tests/guest/irqsnap/irqsnap.ld tests/guest/virtio_mmio.h \
	tests/guest/image_header.S
$(RV)/irqsnap.Image: $(IRQSNAP_DEPS)
	@$(if $(Q),echo '  CC-RV   $@',true)
	$(Q)$(RV_CC) -Wall -Wextra -Werror -O2 -march=rv64gc -mabi=lp64d \
		-mcmodel=medany -mno-relax -fno-pic -ffreestanding -nostdlib \
		-static -Wl,--build-id=none -Wl,-T,tests/guest/irqsnap/irqsnap.ld \
		-o $(RV)/irqsnap.elf $(IRQSNAP_SRC)
	$(Q)riscv64-linux-gnu-objcopy -O binary $(RV)/irqsnap.elf $@

# ---- set-up, end-to-end tests, demo ------------------------------------------
setup:
	@scripts/setup.sh

check-setup:
	@scripts/setup.sh --check

# The Debian image is built by the e2e run, in the background, while the
# host boots that do not need it run (scripts/setup.sh).
test: export RIVET_DEFER_DEBIAN_IMAGE = 1
test: setup
	@rm -rf $(BUILD)/results
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit-plain unit-san $(FUZZ_REPLAY) \
	 sysinject-check; u=$$?; \
	 tests/acpi/check.sh; a=$$?; \
	 tests/e2e/run.sh; e=$$?; \
	 tests/summary.sh $(BUILD)/results/*.tap; s=$$?; \
	 [ $$u -eq 0 ] && [ $$a -eq 0 ] && [ $$e -eq 0 ] && [ $$s -eq 0 ]

e2e: all
	@rm -f $(BUILD)/results/e2e*.tap
	@tests/e2e/run.sh; rc=$$?; tests/summary.sh $(BUILD)/results/e2e*.tap; \
	 exit $$rc

acpi-check: check-setup
	@tests/acpi/check.sh

demo: setup
	@$(MAKE) --no-print-directory riscv64
	@tools/demo

demo-debian: setup
	@$(MAKE) --no-print-directory riscv64
	@tools/debian-demo

# rivet vs QEMU on the emulated host (docs/benchmarks.md); BENCH_RUNS,
# BENCH_DISK_RUNS set the number of runs.  Writes under build/bench/ only:
# the source tree stays as it was.
bench: setup
	@$(MAKE) --no-print-directory riscv64
	@tools/bench

# The table at the end of docs/benchmarks.md, from the last run in
# build/bench/ (fails when there is none, or it did not finish).
bench-docs:
	@tools/bench --docs

clean:
	rm -rf $(BUILD)

# The headers each object was built from (see DEPFLAGS).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
