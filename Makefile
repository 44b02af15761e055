# eidd -- the one entry point: deps, all, run, test, asan, fuzz,
# bench-verify, certs, clean.  GNU make.  Output goes to build/ only.
#
#   make deps          install missing Debian packages (root; else prints how)
#   make               build libraries, programs and tests into build/
#   make test          run every test tier; last line "N passed, N failed"
#   make asan          the same tests under ASan + UBSan + LSan
#   make fuzz          libFuzzer on each parser of outside bytes (FUZZ_SECONDS)
#   make bench-verify  single-thread verify rate vs raw OpenSSL
#   make certs         the development PKI in certs/dev/ (idempotent)
#   make bench         eid-load scenarios against eidd; docs/PERFORMANCE.md
#   make bench-sweep   the open loop's latency against the load; its own
#                      section of docs/PERFORMANCE.md
#   make valgrind      the integration scenarios with eidd under valgrind
#   make install       PREFIX=/usr/local DESTDIR=; make uninstall
#   make run           start on development defaults (see README.md)

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

# Debian 12 packages the build, the tests and the tools need.
DEPS_PKGS = gcc make pkg-config libssl-dev openssl libjansson-dev \
	libcmocka-dev clang libclang-rt-14-dev faketime valgrind \
	libevent-dev libprotobuf-c-dev protobuf-c-compiler libconfig-dev \
	liblmdb-dev libsystemd-dev curl python3 prometheus systemd \
	groff-base man-db zlib1g-dev

CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
V	?= 0
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

PKGS	:= libcrypto jansson
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The daemon and the client add TLS, events, protobuf and the config reader.
NET_PKGS := libssl libcrypto libevent libevent_openssl libevent_pthreads \
	libprotobuf-c
NET_CFLAGS = $(shell pkg-config --cflags $(NET_PKGS) 2>/dev/null)
NET_LIBS   = $(shell pkg-config --libs $(NET_PKGS) 2>/dev/null)
CONF_CFLAGS = $(shell pkg-config --cflags libconfig lmdb libsystemd 2>/dev/null)
CONF_LIBS   = $(shell pkg-config --libs libconfig lmdb libsystemd 2>/dev/null)
LMDB_LIBS   = $(shell pkg-config --libs lmdb 2>/dev/null)
# eid-load compresses its histograms as HdrHistogram does (load/hdr.c).
ZLIB_LIBS   = $(shell pkg-config --libs zlib 2>/dev/null)
CMOCKA_CFLAGS = $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   = $(shell pkg-config --libs cmocka 2>/dev/null)

WARN	:= -Wall -Wextra -Wpedantic -Werror -Wstrict-prototypes \
	-Wmissing-prototypes -Wmissing-declarations -Wshadow \
	-Wpointer-arith -Wcast-qual -Wsign-compare -Wformat=2
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT	?= -O2 -g
CFLAGS	?=
LDFLAGS	?=
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) $(HARDEN) \
	-Iinclude $(PKG_CFLAGS) $(CFLAGS) $(SAN) -MMD -MP
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS) $(SAN)

# --- modules: explicit source lists --------------------------------------

CRYPTO_SRCS := crypto/b64url.c crypto/claims.c crypto/claimscan.c crypto/jwk.c \
	crypto/jws.c crypto/keyset.c crypto/sig.c crypto/sign.c crypto/verify.c
MINT_SRCS := load/mint.c load/common.c
BENCH_SRCS := load/bench_verify.c load/raw.c load/common.c
LOAD_SRCS := load/eid_load.c load/hist.c load/hdr.c load/merge.c \
	load/procstat.c load/raw.c load/timeline.c load/common.c
CLIENT_SRCS := client/wire.c client/client.c client/aclient.c
EIDCTL_SRCS := client/eidctl.c
DAEMON_SRCS := daemon/main.c daemon/cfg.c daemon/log.c daemon/tls.c \
	daemon/worker.c daemon/conn.c daemon/frame.c daemon/codec.c \
	daemon/handler.c daemon/jarena.c \
	daemon/snap.c daemon/store.c daemon/http.c daemon/sandbox_linux.c

CRYPTO_LIB := $(BUILD)/lib/libeidverify.a
PROTO_LIB := $(BUILD)/lib/libeidproto.a
CLIENT_LIB := $(BUILD)/lib/libeidclient.a
GEN := $(BUILD)/gen

UNIT_TESTS := test_b64url test_claims test_claimscan test_jwk test_keyset \
	test_verify test_attacks
VECTOR_TESTS := test_wycheproof test_jose
MINT_TESTS := test_mint
EIDD_TESTS := test_eidd_verify test_eidd_authz test_eidd_limits \
	test_eidd_pipeline test_eidd_lifecycle test_eidd_store test_eidd_http \
	test_eidd_load test_eidd_tls_io
CLIENT_TESTS := test_wire
DAEMON_UNIT_TESTS := test_store test_codec
LOAD_UNIT_TESTS := test_hist test_hdr test_procstat test_timeline

TEST_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS) $(VECTOR_TESTS) \
	$(MINT_TESTS) $(CLIENT_TESTS) $(DAEMON_UNIT_TESTS) $(LOAD_UNIT_TESTS) \
	$(EIDD_TESTS))
PROGS := $(BUILD)/bin/eid-mint $(BUILD)/bin/eid-bench-verify \
	$(BUILD)/bin/eidd $(BUILD)/bin/eidctl $(BUILD)/bin/eid-load

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

# --- build ----------------------------------------------------------------

.PHONY: all deps check-deps-pkgs test asan fuzz fuzz-build bench-verify \
	certs run clean check-deps format-check valgrind bench bench-sweep

all: check-deps-pkgs $(CRYPTO_LIB) $(PROGS) $(TEST_BINS)

$(BUILD)/obj/%.o: %.c | check-deps-pkgs
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The wire contract: generated C goes to build/gen/, never committed.
$(GEN)/eid.pb-c.c $(GEN)/eid.pb-c.h: proto/eid.proto | check-deps-pkgs
	$(call msg,PROTOC,$<)
	@mkdir -p $(GEN)
	$(Q)protoc-c --c_out=$(GEN) -Iproto $<

# Generated code casts away const in its initialisers; only it gets a pass.
$(BUILD)/obj/gen/eid.pb-c.o: $(GEN)/eid.pb-c.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-cast-qual $(NET_CFLAGS) -I$(GEN) -c $< -o $@

$(PROTO_LIB): $(BUILD)/obj/gen/eid.pb-c.o
	$(call msg,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Files of client/ and daemon/ may include the generated header.
$(call obj,$(CLIENT_SRCS) $(EIDCTL_SRCS) $(DAEMON_SRCS)): \
    ALL_CFLAGS += $(NET_CFLAGS) -I$(GEN)
$(call obj,$(CLIENT_SRCS) $(EIDCTL_SRCS) $(DAEMON_SRCS)): | $(GEN)/eid.pb-c.h
$(call obj,$(DAEMON_SRCS)): ALL_CFLAGS += $(CONF_CFLAGS) -Idaemon

$(CLIENT_LIB): $(call obj,$(CLIENT_SRCS))
	$(call msg,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/eidctl: $(call obj,$(EIDCTL_SRCS)) $(CLIENT_LIB) $(PROTO_LIB) \
    $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NET_LIBS) $(PKG_LIBS)

$(BUILD)/bin/eidd: $(call obj,$(DAEMON_SRCS)) $(PROTO_LIB) $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NET_LIBS) $(CONF_LIBS) \
	    $(PKG_LIBS) -lpthread

$(CRYPTO_LIB): $(call obj,$(CRYPTO_SRCS))
	$(call msg,AR,$@)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/eid-mint: $(call obj,$(MINT_SRCS)) $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# eid-load drives eidd through the client library's libevent flavour.
$(call obj,$(LOAD_SRCS)): ALL_CFLAGS += $(NET_CFLAGS)
$(BUILD)/bin/eid-load: $(call obj,$(LOAD_SRCS)) $(CLIENT_LIB) $(PROTO_LIB) \
    $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NET_LIBS) $(PKG_LIBS) $(ZLIB_LIBS) -lm

$(BUILD)/bin/eid-bench-verify: $(call obj,$(BENCH_SRCS)) $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Unit and vector tests link only the verifier library (and cmocka).
$(BUILD)/obj/tests/%.o: ALL_CFLAGS += $(CMOCKA_CFLAGS) -Icrypto -Itests
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/crypto/%.o \
    $(BUILD)/obj/tests/helpers.o $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)
$(BUILD)/tests/test_wycheproof $(BUILD)/tests/test_jose: \
    $(BUILD)/tests/%: $(BUILD)/obj/tests/vectors/%.o \
    $(BUILD)/obj/tests/helpers.o $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)
$(BUILD)/tests/test_mint: $(BUILD)/obj/tests/integration/test_mint.o \
    $(BUILD)/obj/tests/helpers.o $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS)

# Integration tests drive a real eidd through the client library.
$(BUILD)/obj/tests/integration/%.o: ALL_CFLAGS += $(NET_CFLAGS) -I$(GEN)
# (Prerequisites on a pattern rule without a recipe add nothing: GNU make
# reads such a rule as one that cancels, so these name their targets.)
$(addprefix $(BUILD)/obj/tests/integration/,$(addsuffix .o,$(EIDD_TESTS) \
    harness)): | $(GEN)/eid.pb-c.h
$(BUILD)/tests/test_eidd_%: $(BUILD)/obj/tests/integration/test_eidd_%.o \
    $(BUILD)/obj/tests/integration/harness.o $(BUILD)/obj/tests/helpers.o \
    $(CLIENT_LIB) $(PROTO_LIB) $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NET_LIBS) $(PKG_LIBS) $(CMOCKA_LIBS) -lm

# The store's unit test links the store and the logger, nothing else.
$(BUILD)/obj/tests/unit/daemon/%.o: ALL_CFLAGS += -Idaemon $(CONF_CFLAGS)
$(BUILD)/tests/test_store: $(BUILD)/obj/tests/unit/daemon/test_store.o \
    $(BUILD)/obj/daemon/store.o $(BUILD)/obj/daemon/log.o $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LMDB_LIBS) $(PKG_LIBS) \
	    $(CMOCKA_LIBS) -lpthread

# The hand codec's test links it and the generated code, its reference.
$(BUILD)/obj/tests/unit/daemon/test_codec.o: ALL_CFLAGS += -I$(GEN) \
    $(shell pkg-config --cflags libprotobuf-c 2>/dev/null)
$(BUILD)/obj/tests/unit/daemon/test_codec.o: | $(GEN)/eid.pb-c.h
$(BUILD)/tests/test_codec: $(BUILD)/obj/tests/unit/daemon/test_codec.o \
    $(BUILD)/obj/daemon/codec.o $(PROTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ \
	    $(shell pkg-config --libs libprotobuf-c 2>/dev/null) $(CMOCKA_LIBS)

# eid-load's unit tests link the one module each tests, nothing else.
$(BUILD)/obj/tests/unit/load/%.o: ALL_CFLAGS += -Iload
$(BUILD)/tests/test_hist: $(BUILD)/obj/tests/unit/load/test_hist.o \
    $(BUILD)/obj/load/hist.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lm
# The codec's base64 is the verifier library's strict one.
$(BUILD)/tests/test_hdr: $(BUILD)/obj/tests/unit/load/test_hdr.o \
    $(BUILD)/obj/load/hdr.o $(BUILD)/obj/load/hist.o \
    $(BUILD)/obj/crypto/b64url.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS) \
	    $(ZLIB_LIBS) -lm
$(BUILD)/tests/test_procstat: $(BUILD)/obj/tests/unit/load/test_procstat.o \
    $(BUILD)/obj/load/procstat.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lm
$(BUILD)/tests/test_timeline: $(BUILD)/obj/tests/unit/load/test_timeline.o \
    $(BUILD)/obj/load/timeline.o $(BUILD)/obj/load/hist.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lm -pthread

# The client's codec test links the client library only.
$(BUILD)/obj/tests/unit/client/%.o: ALL_CFLAGS += $(NET_CFLAGS) -I$(GEN) \
    -Iclient
$(BUILD)/obj/tests/unit/client/test_wire.o: | $(GEN)/eid.pb-c.h
$(BUILD)/tests/test_wire: $(BUILD)/obj/tests/unit/client/test_wire.o \
    $(CLIENT_LIB) $(PROTO_LIB) $(CRYPTO_LIB)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(NET_LIBS) $(PKG_LIBS) $(CMOCKA_LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# --- dependencies -----------------------------------------------------------

deps:
	@missing=""; for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "missing Debian packages:$$missing"; \
		echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; \
		exit 1; \
	fi; \
	echo "deps: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null

# Every build target installs what it lacks first, so that "make run" and
# "make test" work as the first command on a new machine.
check-deps-pkgs:
	@$(MAKE) --no-print-directory deps

# --- development PKI ---------------------------------------------------------

CERTS_DIR := certs/dev

certs: $(CERTS_DIR)/.complete $(CERTS_DIR)/jwks.json

$(CERTS_DIR)/.complete: certs/mkdev.sh
	$(call msg,CERTS,$(CERTS_DIR))
	$(Q)rm -f $(CERTS_DIR)/.complete
	$(Q)certs/mkdev.sh $(CERTS_DIR)

$(CERTS_DIR)/jwks.json: $(CERTS_DIR)/.complete $(BUILD)/bin/eid-mint
	$(call msg,JWKS,$@)
	$(Q)$(BUILD)/bin/eid-mint --certs $(CERTS_DIR) --jwks > $@.tmp && \
	    mv $@.tmp $@

# --- tests -------------------------------------------------------------------

test: all certs
	$(Q)tests/run.sh $(BUILD) tests/check-deps.sh \
	    tests/install/test_install.sh $(TEST_BINS)

check-deps:
	$(Q)tests/check-deps.sh

# The daemon under valgrind, driven by the integration scenarios: any
# memory error or leak makes eidd exit 99, which its test reports.
VALGRIND_EIDD := valgrind -q --leak-check=full \
	--show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99
valgrind: all certs
	$(Q)EID_EIDD_WRAPPER="$(VALGRIND_EIDD)" tests/run.sh $(BUILD) \
	    $(addprefix $(BUILD)/tests/,$(EIDD_TESTS))

# A separate tree, so sanitizer objects never mix with the normal build.
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan CC=clang \
	    OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
	    HARDEN="-fPIE" test

FUZZ_BUILD := build/fuzz
FUZZ_BIN := $(FUZZ_BUILD)/fuzz_verify
FUZZ_REQ_BIN := $(FUZZ_BUILD)/fuzz_request
FUZZ_RESP_BIN := $(FUZZ_BUILD)/fuzz_response
FUZZ_CFG_BIN := $(FUZZ_BUILD)/fuzz_config
FUZZ_HDR_BIN := $(FUZZ_BUILD)/fuzz_hdr
# The daemon's request path without main.c (the harness stands in).
FUZZ_DAEMON_OBJS = $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,\
	$(filter-out daemon/main.c,$(DAEMON_SRCS)))

fuzz-build: check-deps-pkgs certs
	$(Q)$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang \
	    OPT="-O1 -g" HARDEN="-fPIE" \
	    SAN="-fsanitize=fuzzer-no-link,address,undefined" \
	    $(FUZZ_BUILD)/lib/libeidverify.a $(FUZZ_BUILD)/lib/libeidproto.a \
	    $(FUZZ_BUILD)/lib/libeidclient.a $(FUZZ_DAEMON_OBJS) \
	    $(FUZZ_BUILD)/obj/load/hdr.o $(FUZZ_BUILD)/obj/load/hist.o
	$(call msg,LD,$(FUZZ_BIN))
	$(Q)clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g $(WARN) -Iinclude \
	    -Icrypto $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $(FUZZ_BIN) tests/fuzz/fuzz_verify.c \
	    $(FUZZ_BUILD)/lib/libeidverify.a $(PKG_LIBS)
	$(call msg,LD,$(FUZZ_REQ_BIN))
	$(Q)clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g $(WARN) -Iinclude \
	    -Idaemon -I$(FUZZ_BUILD)/gen $(PKG_CFLAGS) $(NET_CFLAGS) \
	    $(CONF_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $(FUZZ_REQ_BIN) \
	    tests/fuzz/fuzz_request.c $(FUZZ_DAEMON_OBJS) \
	    $(FUZZ_BUILD)/lib/libeidproto.a $(FUZZ_BUILD)/lib/libeidverify.a \
	    $(NET_LIBS) $(CONF_LIBS) $(PKG_LIBS) -lpthread
	$(call msg,LD,$(FUZZ_RESP_BIN))
	$(Q)clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g $(WARN) -Iinclude \
	    -Iclient -I$(FUZZ_BUILD)/gen $(PKG_CFLAGS) $(NET_CFLAGS) \
	    -fsanitize=fuzzer,address,undefined -o $(FUZZ_RESP_BIN) \
	    tests/fuzz/fuzz_response.c $(FUZZ_BUILD)/lib/libeidclient.a \
	    $(FUZZ_BUILD)/lib/libeidproto.a $(FUZZ_BUILD)/lib/libeidverify.a \
	    $(NET_LIBS) $(PKG_LIBS)
	$(call msg,LD,$(FUZZ_CFG_BIN))
	$(Q)clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g $(WARN) -Iinclude \
	    -Idaemon $(PKG_CFLAGS) $(CONF_CFLAGS) \
	    -fsanitize=fuzzer,address,undefined -o $(FUZZ_CFG_BIN) \
	    tests/fuzz/fuzz_config.c $(FUZZ_BUILD)/obj/daemon/cfg.o \
	    $(FUZZ_BUILD)/obj/daemon/log.o $(FUZZ_BUILD)/lib/libeidverify.a \
	    $(CONF_LIBS) $(PKG_LIBS)
	$(call msg,LD,$(FUZZ_HDR_BIN))
	$(Q)clang -std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g $(WARN) -Iinclude \
	    -Iload $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $(FUZZ_HDR_BIN) tests/fuzz/fuzz_hdr.c \
	    $(FUZZ_BUILD)/obj/load/hdr.o $(FUZZ_BUILD)/obj/load/hist.o \
	    $(FUZZ_BUILD)/lib/libeidverify.a $(PKG_LIBS) $(ZLIB_LIBS) -lm

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_BIN) $(FUZZ_SECONDS)
	$(Q)tests/fuzz/run_request.sh $(FUZZ_REQ_BIN) $(FUZZ_SECONDS)
	$(Q)tests/fuzz/run_response.sh $(FUZZ_RESP_BIN) $(FUZZ_SECONDS)
	$(Q)tests/fuzz/run_config.sh $(FUZZ_CFG_BIN) $(FUZZ_SECONDS)
	$(Q)tests/fuzz/run_hdr.sh $(FUZZ_HDR_BIN) $(FUZZ_SECONDS)

bench-verify: all certs
	$(Q)$(BUILD)/bin/eid-bench-verify --certs $(CERTS_DIR) \
	    --update docs/PERFORMANCE.md

# eidd under eid-load's scenarios, against OpenSSL's raw verify cost
# measured in the same run; rewrites docs/PERFORMANCE.md's eid-load table.
bench: all certs $(BUILD)/bin/eid-load
	$(Q)load/bench.sh $(BUILD) docs/PERFORMANCE.md

# The open loop at shares of the realistic workload's peak: how the tail
# grows with the load; rewrites docs/PERFORMANCE.md's sweep table.
bench-sweep: all certs $(BUILD)/bin/eid-load
	$(Q)load/bench.sh --sweep $(BUILD) docs/PERFORMANCE.md

# --- run -----------------------------------------------------------------------

# The daemon in the foreground on its development defaults (127.0.0.1:7443,
# etc/eidd.dev.conf, state under var/); Ctrl-C stops it.
run: all certs
	@mkdir -p var
	$(Q)$(BUILD)/bin/eidd -t -c etc/eidd.dev.conf
	$(Q)exec $(BUILD)/bin/eidd -c etc/eidd.dev.conf

clean:
	rm -rf build

format-check:
	$(Q)clang-format --dry-run --Werror $(CRYPTO_SRCS) $(MINT_SRCS) \
	    include/eid/*.h

include mk/install.mk
