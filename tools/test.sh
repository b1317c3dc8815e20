#!/usr/bin/env bash
# Builds smvm and runs every test: unit tests, CLI errors, and the
# end-to-end tests on KVM (inside a nested guest where /dev/kvm is absent);
# then the unit and CLI tests again under ASan and UBSan.
# The guest kernel is built once and then taken from ~/.cache/smvm.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build-kernel.sh >/dev/null
cmake -S . -B build -DSMVM_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"

# Sanitizers: no -Werror here, GCC 12 warns falsely inside libstdc++ under ASan.
cmake -S . -B build-asan -DSMVM_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" --target smvm smvm_unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build-asan/tests/smvm_unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 tests/cli/errors.sh build-asan

# Fuzz the virtqueue and block request parsing for a bounded time (clang, libFuzzer).
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSMVM_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target virtqueue_fuzz
mkdir -p build-fuzz/corpus
build-fuzz/virtqueue_fuzz -max_total_time="${SMVM_FUZZ_SECONDS:-60}" -max_len=70000 build-fuzz/corpus 2>&1 | tail -n 2
