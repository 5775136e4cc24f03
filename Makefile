# smallsim: one top-level GNU Makefile, out-of-tree build in $(BUILD).
#   make                 library (static + shared) and the smallsim program
#   make check           the layering check and the Check test suite (under 10
#                        minutes on 2 cores)
#   make python          the Python package's compiled module (build/python)
#   make check-long      slower accuracy and soak tests
#   make conformance     the ngspice -b conformance table (docs/engine.md)
#   make bench           benchmarks against ngspice -b (ratios from one run)
#   make fuzz            libFuzzer on every parser (clang; FUZZ_SECONDS each)
#   make demo            the README's main demo
#   make install PREFIX=/usr/local DESTDIR=
#   make BUILD=build-asan SANITIZE=address,undefined check

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := 0.1.0

# Library modules, one folder and one public header (ss_*.h) each; nested
# folders compile into $(BUILD)/<folder>/.  The order in which they may
# include each other is in docs/architecture.md (make check verifies it).
MODULES  := util pool netlists devices cosim/engine cosim/ode cosim/devsim cosim/crossbar \
            cosim/network cosim/experiment circuits sweep fit l2l
PKGS     := gsl yaml-0.1 libseccomp
SUNDIALS_LIBS ?= -lsundials_cvode -lsundials_nvecserial -lsundials_sunmatrixsparse \
                 -lsundials_sunlinsolklu -lklu
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith -Wvla \
            -Wformat=2 -Wmissing-prototypes -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC $(WARN) $(CFLAGS) -I. \
             -I/usr/include/suitesparse $(PKG_CFLAGS) $(EXTRA_CFLAGS)
DEPFLAGS := -MMD -MP
LDLIBS   = $(PKG_LIBS) $(SUNDIALS_LIBS) -ldl -lpthread -lm
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=$(SANITIZE)
endif
# make MPI=1: build with Open MPI (mpicc) so `mpirun -n R smallsim sweep ...`
# spreads a sweep or an l2l run over ranks (pool/mpi.c).
ifdef MPI
CC := mpicc
ALL_CFLAGS += -DSS_MPI
endif
ifdef WERROR
ALL_CFLAGS += -Werror
endif
# make fuzz builds with clang in its own folder, coverage-instrumented.
ifdef FUZZ
CC := clang
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=address,undefined
endif

# Dependencies are installed on first use when pkg-config cannot find them.
DEPS_OK  := $(BUILD)/.deps-ok
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

LIB_SRC  := $(wildcard $(addsuffix /*.c,$(MODULES)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC  := $(wildcard cli/*.c)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/check_*.c)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/suites.o
TEST_HELPER_SRC := $(filter-out tests/check_%.c,$(wildcard tests/*.c))
TEST_HELPER_OBJ := $(TEST_HELPER_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
HEADERS  := $(wildcard $(addsuffix /ss_*.h,$(MODULES))) cosim/ss_cosim.h
# fuzz/fuzz_<name>.c: one target per parser; replayed over fuzz/corpus/<name>/
# by make check (built with replay.c), run by libFuzzer with make fuzz.
FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_TARGETS := $(filter-out file,$(FUZZ_SRC:fuzz/fuzz_%.c=%))
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%-replay)
FUZZ_SECONDS ?= 60

# circuits/lib/* are embedded into the library as C strings (circuits/embed.awk).
CIRC_TEXT := $(sort $(wildcard circuits/lib/*.lib circuits/lib/*.sub))
LIB_OBJ  += $(BUILD)/circuits/lib_text.o
$(BUILD)/circuits/lib_text.c: $(CIRC_TEXT) circuits/embed.awk
	@mkdir -p $(@D)
	awk -f circuits/embed.awk $(CIRC_TEXT) > $@
$(BUILD)/circuits/lib_text.o: $(BUILD)/circuits/lib_text.c
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The Python package (python/smallsim) over the shared library: `make python`
# compiles its cffi module into $(BUILD)/python against the headers and
# $(BUILD)/libsmallsim.so; python-check runs its pytest suite (Debian's
# python3; PYTHON= picks another interpreter with cffi, numpy and pytest).
PYTHON   ?= /usr/bin/python3
PY_STAMP := $(BUILD)/python/.built
# Under SANITIZE the interpreter is not instrumented: the sanitizer runtimes
# are preloaded (leak checks off: the interpreter keeps its memory to the end).
ifdef SANITIZE
PY_PRELOAD := $(if $(findstring address,$(SANITIZE)),$(shell $(CC) -print-file-name=libasan.so)) \
              $(if $(findstring undefined,$(SANITIZE)),$(shell $(CC) -print-file-name=libubsan.so))
PY_ENV = LD_PRELOAD="$(strip $(PY_PRELOAD))" ASAN_OPTIONS=detect_leaks=0 SS_SANITIZE=1
endif

STATIC   := $(BUILD)/libsmallsim.a
SHARED   := $(BUILD)/libsmallsim.so
PROGRAM  := $(BUILD)/smallsim
TESTBIN  := $(BUILD)/tests/check_all

.PHONY: all deps check check-long conformance bench demo install clean fuzz python python-check
.DEFAULT_GOAL := all

all: $(PROGRAM) $(SHARED)

deps: $(DEPS_OK)
$(DEPS_OK): scripts/install-deps.sh
	@mkdir -p $(@D)
	@sh scripts/install-deps.sh
	@touch $@

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# libsmallsim.so.0 (the soname) beside it, so that programs linked against
# the build folder (the Python module) find the library there.
$(SHARED): $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,libsmallsim.so.0 -o $@ $^ $(LDLIBS)
	ln -sf libsmallsim.so $(BUILD)/libsmallsim.so.0

$(PROGRAM): $(CLI_OBJ) $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(LDLIBS)

# Each tests/check_<name>.c defines Suite *<name>_suite(void); the list is generated.
$(BUILD)/tests/suites.c: $(TEST_SRC) Makefile
	@mkdir -p $(@D)
	@{ echo '#include <check.h>'; echo '#include <stddef.h>'; \
	  for f in $(sort $(TEST_SRC)); do n=$$(basename $$f .c); n=$${n#check_}; \
	    [ "$$n" = main ] || echo "Suite *$${n}_suite(void);"; done; \
	  echo 'Suite *(*const ss_test_suites[])(void) = {'; \
	  for f in $(sort $(TEST_SRC)); do n=$$(basename $$f .c); n=$${n#check_}; \
	    [ "$$n" = main ] || echo "    $${n}_suite,"; done; \
	  echo '    NULL};'; } > $@

$(BUILD)/tests/%.o: WARN += -Wno-missing-prototypes

$(BUILD)/tests/suites.o: $(BUILD)/tests/suites.c
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(TESTBIN): $(TEST_OBJ) $(TEST_HELPER_OBJ) $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/fuzz/%-replay: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/fuzz_file.o $(BUILD)/fuzz/replay.o $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%-libfuzzer: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/fuzz_file.o $(STATIC)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

check: $(TESTBIN) $(PROGRAM) $(FUZZ_REPLAY) $(PY_STAMP)
	@sh scripts/check-layers.sh
	@for t in $(FUZZ_TARGETS); do $(BUILD)/fuzz/$$t-replay fuzz/corpus/$$t || exit 1; done
	SS_TEST_PROGRAM=$(abspath $(PROGRAM)) SS_LONG=0 $(TESTBIN)
	@$(MAKE) --no-print-directory python-check SS_LONG=0

python: $(PY_STAMP)
$(PY_STAMP): $(SHARED) $(HEADERS) python/smallsim/_build.py | $(DEPS_OK)
	@mkdir -p $(@D)
	$(PYTHON) python/smallsim/_build.py --root . --lib $(BUILD) --out $(BUILD)/python
	@touch $@

python-check: $(PY_STAMP) $(PROGRAM)
	cd python && $(PY_ENV) PYTHONPATH=$(abspath $(BUILD)/python):$(abspath python) \
	  SS_TEST_PROGRAM=$(abspath $(PROGRAM)) SS_LONG=$(or $(SS_LONG),0) PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests

.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%.o) $(BUILD)/fuzz/fuzz_file.o $(BUILD)/fuzz/replay.o

# New inputs go to $(BUILD)/fuzz/new-<target>; crashes to $(BUILD)/fuzz/.
fuzz:
	$(MAKE) FUZZ=1 BUILD=build-fuzz $(FUZZ_TARGETS:%=build-fuzz/fuzz/%-libfuzzer)
	@for t in $(FUZZ_TARGETS); do mkdir -p build-fuzz/fuzz/new-$$t; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  build-fuzz/fuzz/$$t-libfuzzer -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	    -artifact_prefix=build-fuzz/fuzz/ build-fuzz/fuzz/new-$$t fuzz/corpus/$$t || exit 1; done

# The conformance table of docs/engine.md: every netlist of tests/conformance
# run by ngspice -b and by smallsim (the fast ones also run in make check).
conformance: $(TESTBIN) $(PROGRAM)
	SS_TEST_PROGRAM=$(abspath $(PROGRAM)) SS_LONG=1 CK_RUN_SUITE=conformance \
	  SS_CONF_TABLE=$(abspath $(BUILD))/conformance.md $(TESTBIN)
	@cat $(BUILD)/conformance.md

check-long: $(TESTBIN) $(PROGRAM) $(PY_STAMP)
	SS_TEST_PROGRAM=$(abspath $(PROGRAM)) SS_LONG=1 CK_DEFAULT_TIMEOUT=1800 $(TESTBIN)
	@$(MAKE) --no-print-directory python-check SS_LONG=1

$(BUILD)/bench/%: bench/%.c $(STATIC) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

bench: $(BENCH_BIN) $(PROGRAM) $(PY_STAMP)
	@sh scripts/install-deps.sh bench
	@for b in $(BENCH_BIN); do echo "== $$b"; SS_PROGRAM=$(abspath $(PROGRAM)) SS_PYTHON=$(PYTHON) \
	  PYTHONPATH=$(abspath $(BUILD)/python):$(abspath python) $$b || exit 1; done

demo: $(PROGRAM)
	@sh examples/demo.sh $(PROGRAM)

install: $(PROGRAM) $(STATIC) $(SHARED)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/include/smallsim
	install -m 755 $(PROGRAM) $(DESTDIR)$(PREFIX)/bin/smallsim
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/libsmallsim.a
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/libsmallsim.so.$(VERSION)
	ln -sf libsmallsim.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libsmallsim.so.0
	ln -sf libsmallsim.so.0 $(DESTDIR)$(PREFIX)/lib/libsmallsim.so
	for h in $(HEADERS); do d=$(DESTDIR)$(PREFIX)/include/smallsim/$$(dirname $$h); \
	  install -d $$d && install -m 644 $$h $$d/; done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS@|$(LDLIBS)|' smallsim.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/smallsim.pc

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d $(BUILD)/*/*/*/*.d)
