# Fuzz targets, included by the top Makefile.  See tests/fuzz/README.md.
#
#   make fuzz           build every target with clang + libFuzzer + ASan/UBSan
#                       and run each for FUZZ_SECONDS (default 60); new inputs
#                       go to build/fuzz/corpus/<name>, crashes to
#                       build/fuzz/artifacts/<name>
#   make fuzz-replay    build the targets with gcc + ASan/UBSan and a replay
#                       main(), run the committed corpus and regression inputs
#                       (part of `make unit` and `make test`)
#   make fuzz-seeds     regenerate tests/fuzz/corpus/*/seed-* (mkseeds.c,
#                       and mkseeds_snap.c for snap_dev)
#   make fuzz-merge     add the inputs of build/fuzz/corpus that reach new
#                       coverage to the committed corpus (libFuzzer -merge=1)
#
#   FUZZ_TARGETS="virtq uart" limits fuzz and fuzz-merge to some targets.

FUZZ_REPLAY := fuzz-replay
FUZZ_SRC := tests/fuzz
FUZZ_NAMES := $(sort $(patsubst $(FUZZ_SRC)/fuzz_%.c,%,\
	$(wildcard $(FUZZ_SRC)/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 60
FUZZ_LIBS := -lfdt -ljansson -lpthread
FUZZ := $(BUILD)/fuzz

.PHONY: fuzz fuzz-replay fuzz-seeds fuzz-merge fuzz-check

# ---- replay: gcc, ASan/UBSan, no libFuzzer ------------------------------------
FUZZ_REPLAY_BINS := $(FUZZ_NAMES:%=$(SAN)/fuzz/fuzz_%)

$(SAN)/fuzz/fuzz_%: $(SAN)/obj/$(FUZZ_SRC)/fuzz_%.o \
		$(SAN)/obj/$(FUZZ_SRC)/replay_main.o $(SAN)/libsupport.a \
		$(SAN)/librivet.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN_CFLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz-replay: $(FUZZ_REPLAY_BINS)
	@$(FUZZ_SRC)/replay.sh $(SAN)/fuzz $(FUZZ_NAMES)

# ---- libFuzzer: clang --------------------------------------------------------
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 $(FUZZ_SAN)
# Debian's package for clang N's libFuzzer (N = 14 on Debian 12).
FUZZ_LIB_PKG = libclang-rt-$$($(FUZZ_CC) -dumpversion 2>/dev/null | \
	cut -d. -f1 | grep . || echo 14)-dev

$(FUZZ)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC-FUZZ $<',true)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) \
		-fsanitize=fuzzer-no-link -c $< -o $@

# clang's -Wformat=2 wants emit()'s va_list format marked
# __attribute__((format(printf, 2, 0))); gcc does not ask for it.

# Only what the targets link: the guest-facing code and what it uses (the
# boards too: fuzz_snapshot restores into whole machines).
FUZZ_LIB_SRCS := $(filter src/core/% src/devices/% src/boot/% src/fwcfg/% \
	src/machine/% src/acpi/% \
	src/snapshot/% src/qmp/qmp.c,$(PORTABLE_SRCS))

$(FUZZ)/librivet.a: $(FUZZ_LIB_SRCS:%.c=$(FUZZ)/obj/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(FUZZ)/libsupport.a: $(SUPPORT_SRCS:%.c=$(FUZZ)/obj/%.o)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

# Keep the objects (they would be intermediate files otherwise).
.SECONDARY: $(FUZZ_NAMES:%=$(FUZZ)/obj/$(FUZZ_SRC)/fuzz_%.o)

$(FUZZ)/bin/fuzz_%: $(FUZZ)/obj/$(FUZZ_SRC)/fuzz_%.o $(FUZZ)/libsupport.a \
		$(FUZZ)/librivet.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  LD-FUZZ $@',true)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)

# Install nothing: say what is missing.
fuzz-check:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not" \
	 "found: apt-get install clang $(FUZZ_LIB_PKG)" >&2; exit 1; }
	@lib=$$($(FUZZ_CC) -print-file-name=libclang_rt.fuzzer-x86_64.a); \
	 [ -f "$$lib" ] || { echo "fuzz: libFuzzer (libclang_rt.fuzzer)" \
	 "not found for $$($(FUZZ_CC) --version | head -1):" \
	 "apt-get install $(FUZZ_LIB_PKG)" >&2; exit 1; }

fuzz: fuzz-check
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ)/bin/fuzz_%)
	@$(FUZZ_SRC)/run-fuzz.sh $(FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-merge: fuzz-check
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(FUZZ)/bin/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  [ -d $(FUZZ)/corpus/$$t ] || continue; \
	  echo "fuzz-merge: $$t"; \
	  RIVET_FUZZ_LOG= $(FUZZ)/bin/fuzz_$$t -merge=1 \
	    $(FUZZ_SRC)/corpus/$$t $(FUZZ)/corpus/$$t 2>&1 | \
	    grep -E 'MERGE-OUTER: [0-9]+ new files' || exit 1; \
	done

# ---- seeds -------------------------------------------------------------------
$(BUILD)/fuzz/mkseeds: $(FUZZ_SRC)/mkseeds.c Makefile
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(X86_CFLAGS) $(DEPFLAGS) -o $@ $<

# The snapshot seeds are records the real devices save: generators that
# link rivet and the test support (snap_dev; snap_virtio, which builds on
# its fuzz target's set-up).
$(X86)/mkseeds_snap: $(X86)/obj/$(FUZZ_SRC)/mkseeds_snap.o \
		$(X86)/libsupport.a $(X86)/librivet.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(X86_CFLAGS) -o $@ $^ $(TEST_LIBS)

$(X86)/mkseeds_snap_virtio: $(X86)/obj/$(FUZZ_SRC)/mkseeds_snap_virtio.o \
		$(X86)/libsupport.a $(X86)/librivet.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(X86_CFLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz-seeds: $(BUILD)/fuzz/mkseeds $(X86)/mkseeds_snap $(X86)/mkseeds_snap_virtio
	@$(BUILD)/fuzz/mkseeds $(FUZZ_SRC)/corpus
	@mkdir -p $(FUZZ_SRC)/corpus/snap_dev
	@$(X86)/mkseeds_snap $(FUZZ_SRC)/corpus
	@$(X86)/mkseeds_snap_virtio $(FUZZ_SRC)/corpus
