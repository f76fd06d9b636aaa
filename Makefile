# portprobe: a thin front for CMake + Ninja + CTest.
#   make        build build/portprobe (installs build dependencies if missing)
#   make run    build, then demonstrate portprobe check on this machine
#   make test   install test dependencies if missing, build, run every test
#   make asan   the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make lint   clang-format check
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= 2

.PHONY: all build run test asan lint deps deps-test fuzz clean

all: build

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja >/dev/null
	@cmake --build $(BUILD_DIR)

run: build
	@scripts/demo.sh $(BUILD_DIR)/portprobe $(BUILD_DIR)/pp_listen

test: deps-test build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

asan: deps-test
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DPP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_DIR)
	@cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

lint: deps-test
	@scripts/check-format.sh

fuzz: deps-test
	@cmake -S . -B build-fuzz -G Ninja -DPP_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
	@cmake --build build-fuzz

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) build-fuzz
