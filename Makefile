# NNL: nnlc (the compiler) and libnnlrt.a (the runtime generated programs link).
# `make demo` installs what is missing, builds, and trains examples/fashion_mlp.nnl on
# Fashion-MNIST; `make test` runs every test and ends with `N passed, N failed`.

LLVM_CONFIG ?= $(firstword $(wildcard /usr/lib/llvm-19/bin/llvm-config) llvm-config)
CC      ?= gcc
BUILD   ?= build
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-sign-compare
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -Ilang -Icompiler -Iruntime -I$(BUILD)
LLVM_CFLAGS = $(shell $(LLVM_CONFIG) --cflags 2>/dev/null)
LLVM_LIBS   = $(shell $(LLVM_CONFIG) --ldflags --libs 2>/dev/null) \
              $(shell $(LLVM_CONFIG) --system-libs 2>/dev/null)
RT_CFLAGS ?= -O3 -mtune=native -g
# the RT_HOT files' own flags (the fuzz build's differ)
RT_HOT_CFLAGS ?= $(RT_CFLAGS)
# The runtime files that do the arithmetic are built once per x86-64 level and the copy
# for the CPU's level is chosen when a program starts (runtime/isa_list.h, isa.c); the
# rest of the runtime is built for the baseline x86-64 that every 64-bit x86 CPU runs.
RT_HOT     := gemm conv pool kernels embedding
RT_LEVELS  := v4 v3 v1
RT_ARCH_v4 := -march=x86-64-v4
RT_ARCH_v3 := -march=x86-64-v3
RT_ARCH_v1 := -march=x86-64
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LANG_OBJS := $(BUILD)/lang/arena.o $(BUILD)/lang/diag.o $(BUILD)/lang/ast.o \
             $(BUILD)/lang/lexer.o $(BUILD)/lang/parser.o
COMP_OBJS := $(patsubst compiler/%.c,$(BUILD)/compiler/%.o,$(wildcard compiler/*.c))
RT_OBJS   := $(patsubst runtime/%.c,$(BUILD)/runtime/%.o,\
                 $(filter-out $(RT_HOT:%=runtime/%.c),$(wildcard runtime/*.c))) \
             $(foreach l,$(RT_LEVELS),$(RT_HOT:%=$(BUILD)/runtime/%.$(l).o))

RT_ISA_HS := $(RT_LEVELS:%=$(BUILD)/runtime/isa_%.h)
all: $(BUILD)/nnlc $(BUILD)/libnnlrt.a $(BUILD)/libnnlrt.so $(RT_ISA_HS)
.SECONDARY: $(RT_ISA_HS)

# nnlc carries the whole runtime, its symbols exported, for `nnlc run` (jit.c).
$(BUILD)/nnlc: $(LANG_OBJS) $(COMP_OBJS) $(BUILD)/libnnlrt.a
	$(CC) $(CFLAGS) -rdynamic -o $@ $(LANG_OBJS) $(COMP_OBJS) -Wl,--whole-archive $(BUILD)/libnnlrt.a \
	    -Wl,--no-whole-archive $(LLVM_LIBS) -fopenmp -lcjson -lz -lm

$(BUILD)/libnnlrt.a: $(RT_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libnnlrt.so: $(RT_OBJS)
	$(CC) -shared -o $@ $^ -fopenmp -lcjson -lz -lm

$(BUILD)/parser.c $(BUILD)/parser.h: lang/parser.y | $(BUILD)/lang
	bison -Wall -Werror --defines=$(BUILD)/parser.h -o $(BUILD)/parser.c $<

$(BUILD)/lexer.c: lang/lexer.l $(BUILD)/parser.h | $(BUILD)/lang
	flex -o $@ $<

$(BUILD)/lang/parser.o: $(BUILD)/parser.c lang/ast.h
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<
$(BUILD)/lang/lexer.o: $(BUILD)/lexer.c lang/ast.h
	$(CC) $(CFLAGS) -Wno-missing-prototypes -Wno-unused-function -c -o $@ $<
$(BUILD)/lang/%.o: lang/%.c lang/ast.h $(BUILD)/parser.h | $(BUILD)/lang
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/compiler/%.o: compiler/%.c compiler/*.h lang/ast.h runtime/nnlrt.h | $(BUILD)/compiler
	$(CC) $(CFLAGS) $(LLVM_CFLAGS) -c -o $@ $<
$(BUILD)/runtime/%.o: runtime/%.c runtime/*.h | $(BUILD)/runtime
	$(CC) -std=gnu11 $(WARN) $(RT_CFLAGS) $(RT_ARCH_v1) -fopenmp -fPIC -Iruntime -c -o $@ $<
# isa_vN.h renames every function of isa_list.h to NAME_vN in level N's copy (and in the
# runtime tests that check each level's copy), and defines RT_ISA_vN.
$(BUILD)/runtime/isa_%.h: runtime/isa_list.h Makefile | $(BUILD)/runtime
	{ echo '#define RT_ISA_$*'; sed -n 's/^RT_ISA_FN(\(.*\))$$/#define \1 \1_$*/p' $<; } > $@
define RT_LEVEL_RULE
$(BUILD)/runtime/%.$(1).o: runtime/%.c runtime/*.h $(BUILD)/runtime/isa_$(1).h | $(BUILD)/runtime
	$$(CC) -std=gnu11 $$(WARN) $$(RT_HOT_CFLAGS) $$(RT_ARCH_$(1)) -include $(BUILD)/runtime/isa_$(1).h \
	    -fopenmp -fPIC -Iruntime -c -o $$@ $$<
endef
$(foreach l,$(RT_LEVELS),$(eval $(call RT_LEVEL_RULE,$(l))))

$(BUILD)/lang $(BUILD)/compiler $(BUILD)/runtime:
	mkdir -p $@

# Installs flex, bison, LLVM 19's C API, zlib, cJSON, valgrind and the datasets when missing.
deps:
	@sh tools/deps.sh

demo: deps all
	$(BUILD)/nnlc examples/fashion_mlp.nnl -o $(BUILD)/fashion_mlp
	cd $(BUILD) && ./fashion_mlp train

test: deps all
	@sh tests/run.sh

# Compiler and runtime under ASan+UBSan (in build-san/), then the whole suite through
# them: every test input passes through the sanitized nnlc, and every generated program
# and C test links the sanitized runtime (build-san/cc adds the flags to each link).
# Then valgrind memcheck over nnlc on every example: no errors, no leaks.
sanitize: deps all
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g $(SAN_FLAGS)" RT_CFLAGS="-O1 -g $(SAN_FLAGS)" \
	    build-san/nnlc build-san/libnnlrt.a $(RT_LEVELS:%=build-san/runtime/isa_%.h)
	printf '#!/bin/sh\nexec $(CC) $(SAN_FLAGS) "$$@"\n' > build-san/cc && chmod +x build-san/cc
	CC=$(CURDIR)/build-san/cc NNL_BUILD=build-san NNL_SANITIZE=1 ASAN_OPTIONS=detect_leaks=1 sh tests/run.sh
	sh tools/memcheck.sh

# libFuzzer targets (fuzz/README.md): the compiler front to back, and the runtime's data
# readers. Objects under build-fuzz/ with clang, ASan and UBSan; the corpus starts from
# every .nnl in the tree. `make fuzz FUZZ_SECONDS=N` runs each target N seconds. The
# arithmetic files (RT_HOT) are built without sanitizers: no fuzz target reaches them, and
# clang-14 takes ~9 minutes over gemm.c's AVX-512 level with ASan and UBSan at -O1.
FUZZ_CC      ?= $(firstword $(wildcard /usr/bin/clang-19 /usr/bin/clang-14) clang)
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS := build-fuzz/fuzz_nnlc build-fuzz/fuzz_data
fuzz-build: deps
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" \
	    RT_CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" RT_HOT_CFLAGS="-O1 -g" \
	    FUZZ_CC=$(FUZZ_CC) $(FUZZ_TARGETS)
build-fuzz/fuzz_nnlc: fuzz/fuzz_nnlc.c $(LANG_OBJS) $(filter-out %/driver.o %/jit.o,$(COMP_OBJS))
	$(CC) $(CFLAGS) -fsanitize=fuzzer -DFUZZ_STDLIB_DIR='"$(CURDIR)/stdlib"' -o $@ $^ $(LLVM_LIBS) -lm
build-fuzz/fuzz_data: fuzz/fuzz_data.c $(BUILD)/libnnlrt.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -fopenmp -o $@ $^ -lcjson -lz -lm
fuzz: fuzz-build
	sh fuzz/run.sh $(FUZZ_SECONDS)

# Trains every example fully on real data and checks the accuracies the issues ask for
# (not part of make test: minutes to hours). EXAMPLES="a b" limits it.
examples-check: deps all
	sh tools/examples_check.sh

# Installs like a C library: nnlc, the runtime (static and shared), its header, the
# stdlib, nnl.pc and the man page; nnlc finds the rest relative to its own location.
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/^#define NNLC_VERSION "\(.*\)"/\1/p' compiler/driver.c)
INSTALLED := bin/nnlc lib/libnnlrt.a lib/libnnlrt.so include/nnlrt.h lib/pkgconfig/nnl.pc \
             share/nnl/stdlib/nn.nnl share/man/man1/nnlc.1
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	    $(DESTDIR)$(PREFIX)/share/nnl/stdlib $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/nnlc $(DESTDIR)$(PREFIX)/bin/nnlc
	install -m 644 $(BUILD)/libnnlrt.a $(DESTDIR)$(PREFIX)/lib/libnnlrt.a
	install -m 755 $(BUILD)/libnnlrt.so $(DESTDIR)$(PREFIX)/lib/libnnlrt.so
	install -m 644 runtime/nnlrt.h $(DESTDIR)$(PREFIX)/include/nnlrt.h
	install -m 644 stdlib/*.nnl $(DESTDIR)$(PREFIX)/share/nnl/stdlib/
	install -m 644 docs/nnlc.1 $(DESTDIR)$(PREFIX)/share/man/man1/nnlc.1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' tools/nnl.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nnl.pc

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	rm -f $(patsubst stdlib/%,$(DESTDIR)$(PREFIX)/share/nnl/stdlib/%,$(wildcard stdlib/*.nnl))
	-rmdir $(DESTDIR)$(PREFIX)/share/nnl/stdlib $(DESTDIR)$(PREFIX)/share/nnl 2>/dev/null

# NNL beside PyTorch on the benchmark models, sgemm beside OpenBLAS and oneDNN, the FMA
# peak: bench/run.sh (tools/bench_deps.sh installs the references first as root), results
# in docs/PERFORMANCE.md.
bench: all
	@sh tools/bench_deps.sh
	sh bench/run.sh

wc:
	@wc -l lang/*.[chly] compiler/*.[ch] runtime/*.[ch] stdlib/*.nnl | sort -n

clean:
	rm -rf build build-san build-fuzz

.PHONY: all deps demo test sanitize fuzz fuzz-build examples-check bench install uninstall wc clean
