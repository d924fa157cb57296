# fishbowl — a honeywall.  make | make check | make demo | make bench | make fuzz
# See README.md.  Every target that needs Debian packages installs them first.

CC	?= cc
BUILD	?= build
SANITIZE ?=
PREFIX	?= /usr/local

CFLAGS	?= -O2 -g
CFLAGS	+= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing -Isrc
LDLIBS	+= -lpcap -linih -lseccomp -lcrypto -lz -lmagic -pthread
ifneq ($(SANITIZE),)
CFLAGS	+= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=$(SANITIZE)
endif

SRCS	:= $(filter-out src/main.c,$(wildcard src/*.c))
OBJS	:= $(SRCS:src/%.c=$(BUILD)/obj/%.o)
HDRS	:= $(wildcard src/*.h)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)

.PHONY: all deps check check-fast demo bench fuzz fuzz-run clean install

all: $(BUILD)/fishbowl

deps:
	@scripts/deps.sh

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libfishbowl.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fishbowl: $(BUILD)/obj/main.o $(BUILD)/libfishbowl.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libfishbowl.a $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libfishbowl.a $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)

# The whole suite: unit, replay and network-namespace tests on a normal build,
# then unit and replay tests again under AddressSanitizer and UBSan.
check: deps
	@$(MAKE) --no-print-directory -j$$(nproc) all unit
	@$(MAKE) --no-print-directory -j$$(nproc) BUILD=build-san SANITIZE=address,undefined CC=clang all unit
	@tests/run.sh

# Unit and replay tests only, one build (for quick iterations).
check-fast: all unit
	@FB_SUITES="unit replay" FB_BUILDS="$(BUILD)" tests/run.sh

demo: deps all
	@demo/demo.sh

bench: deps all
	@bench/run.sh

# libFuzzer targets: the library is compiled once with the fuzzer's
# coverage and the sanitizers, then each target links against it.
FUZZ_DIR   := $(BUILD)/fuzz
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=address,undefined
FUZZ_OBJS  := $(SRCS:src/%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS  := $(FUZZ_SRCS:fuzz/%.c=$(FUZZ_DIR)/%)

$(FUZZ_DIR)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/libfishbowl-fuzz.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_DIR)/libfishbowl-fuzz.a $(HDRS)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_DIR)/libfishbowl-fuzz.a $(LDLIBS)

fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz-run: fuzz
	@fuzz/run.sh $(BUILD)/fuzz $${FUZZ_SECONDS:-20}

install: all
	install -D -m 0755 $(BUILD)/fishbowl $(DESTDIR)$(PREFIX)/sbin/fishbowl
	install -D -m 0644 man/fishbowl.8 $(DESTDIR)$(PREFIX)/share/man/man8/fishbowl.8
	install -D -m 0644 man/fishbowl.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/fishbowl.conf.5

clean:
	rm -rf build build-san
