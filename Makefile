# The two commands: `make demo` and `make test`. Both install what is missing first.
MAKEFLAGS += --no-print-directory
BUILD ?= build
JOBS ?= $(shell nproc)
# tests run at once by ctest (test, sanitize): the cores, unless told
# (tests that wait on servers, sleeps or the warm python leave a core idle)
TEST_JOBS ?= $(JOBS)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
# the builds of the test targets print no line per file (the compiler's
# messages stay): each such line is a `cmake -E cmake_echo_color` process,
# and a fresh sanitizer tree from ccache took 43-54 instead of 62-69 CPU s
QUIET = -DCMAKE_RULE_MESSAGES=OFF

.PHONY: all bootstrap build demo test sanitize tsan tsan-build tsan-run fuzz fuzz-build fuzz-run format format-check bench clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/kiln demo --out demo-out

# the programs the tests run (tests/CMakeLists.txt: test_programs), not the benches
test: bootstrap
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) $(QUIET) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target test_programs
	@cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: bootstrap
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON $(QUIET) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(TEST_JOBS)

# The concurrency tests (ctest label `concurrency`, listed in
# tests/CMakeLists.txt) under ThreadSanitizer; only the library and those
# tests are built, with OpenMP off. Any report fails (halt_on_error).
# (tsan-build and tsan-run apart: CI builds while other stages run)
tsan: tsan-build
	@$(MAKE) tsan-run

tsan-run:
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 $${TSAN_OPTIONS:-}" \
		ctest -L concurrency --output-on-failure -j $(JOBS)

tsan-build: bootstrap
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_TSAN=ON $(QUIET) >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target concurrency_tests

# libFuzzer harnesses, each run for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz: fuzz-build
	@$(MAKE) fuzz-run

fuzz-run:
	@scripts/run-fuzzers build-fuzz $(FUZZ_SECONDS)

fuzz-build: bootstrap
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DKILN_FUZZ=ON $(QUIET) >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

bench: build
	@scripts/bootstrap --bench
	@bench/csv_read

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz demo-out
