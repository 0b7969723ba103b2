# NNL: nnlc (the compiler) and libnnlrt.a (the runtime generated programs link).
# `make demo` installs what is missing, builds, and trains examples/fashion_mlp.nnl on
# Fashion-MNIST; `make test` runs every test and ends with `N passed, N failed`.

LLVM_CONFIG ?= $(firstword $(wildcard /usr/lib/llvm-19/bin/llvm-config) llvm-config)
CC      ?= gcc
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter -Wno-sign-compare
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -Ilang -Icompiler -Iruntime -Ibuild
LLVM_CFLAGS := $(shell $(LLVM_CONFIG) --cflags 2>/dev/null)
LLVM_LIBS   := $(shell $(LLVM_CONFIG) --ldflags --libs 2>/dev/null) \
               $(shell $(LLVM_CONFIG) --system-libs 2>/dev/null)
RT_CFLAGS ?= -O3 -march=native -g
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LANG_OBJS := build/lang/arena.o build/lang/diag.o build/lang/ast.o \
             build/lang/lexer.o build/lang/parser.o
COMP_OBJS := $(patsubst compiler/%.c,build/compiler/%.o,$(wildcard compiler/*.c))
RT_OBJS   := $(patsubst runtime/%.c,build/runtime/%.o,$(wildcard runtime/*.c))

all: build/nnlc build/libnnlrt.a

build/nnlc: $(LANG_OBJS) $(COMP_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LLVM_LIBS) -lm

build/libnnlrt.a: $(RT_OBJS)
	rm -f $@ && ar rcs $@ $^

build/parser.c build/parser.h: lang/parser.y | build/lang
	bison -Wall -Werror --defines=build/parser.h -o build/parser.c $<

build/lexer.c: lang/lexer.l build/parser.h | build/lang
	flex -o $@ $<

build/lang/parser.o: build/parser.c lang/ast.h
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<
build/lang/lexer.o: build/lexer.c lang/ast.h
	$(CC) $(CFLAGS) -Wno-missing-prototypes -Wno-unused-function -c -o $@ $<
build/lang/%.o: lang/%.c lang/ast.h build/parser.h | build/lang
	$(CC) $(CFLAGS) -c -o $@ $<
build/compiler/%.o: compiler/%.c $(wildcard compiler/*.h) lang/ast.h runtime/nnlrt.h | build/compiler
	$(CC) $(CFLAGS) $(LLVM_CFLAGS) -c -o $@ $<
build/runtime/%.o: runtime/%.c runtime/*.h | build/runtime
	$(CC) -std=gnu11 $(WARN) $(RT_CFLAGS) -fopenmp -fPIC -Iruntime -c -o $@ $<

build/lang build/compiler build/runtime:
	mkdir -p $@

# Installs flex, bison, LLVM 19's C API, OpenMP, zlib and the datasets when missing.
deps:
	@sh tools/deps.sh

demo: deps all
	build/nnlc examples/fashion_mlp.nnl -o build/fashion_mlp
	cd build && ./fashion_mlp train

test: all
	@sh tests/run.sh

# The compiler and runtime under ASan+UBSan, then the whole suite against them.
sanitize:
	$(MAKE) BUILD_SAN=1 CFLAGS="-O1 -g $(SAN_FLAGS)" RT_CFLAGS="-O1 -g $(SAN_FLAGS)" \
	    clean-objs all
	NNL_SANITIZE=1 sh tests/run.sh

wc:
	@wc -l lang/*.[chly] compiler/*.[ch] runtime/*.[ch] stdlib/*.nnl | sort -n

clean-objs:
	rm -rf build/lang build/compiler build/runtime build/nnlc build/libnnlrt.a

clean:
	rm -rf build

.PHONY: all deps demo test sanitize wc clean clean-objs
