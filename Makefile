# Front door. `make run` and `make test` are the README's two set-up commands:
# each installs what is missing, builds, and then runs the server or the tests.
JOBS ?= $(shell nproc)
BUILD ?= build
SAN_BUILD ?= build-sanitize

.PHONY: all deps build build-debug build-sanitize run test test-sanitize bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-debug: deps
	cmake -S . -B build-debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-debug -j $(JOBS)

build-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Sanitize >/dev/null
	cmake --build $(SAN_BUILD) -j $(JOBS)

run: build
	./$(BUILD)/strata-server $(ARGS)

# The whole suite on the Release build.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite again with ASan + UBSan.
test-sanitize: build-sanitize
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

bench: build
	bash bench/side_by_side.sh

clean:
	rm -rf $(BUILD) build-debug $(SAN_BUILD)
