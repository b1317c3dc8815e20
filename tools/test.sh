#!/usr/bin/env bash
# Builds smvm and runs every test: unit tests, CLI errors, and the
# end-to-end tests on KVM (inside a nested guest where /dev/kvm is absent);
# then the unit and CLI tests again under ASan and UBSan.
# The guest kernel is built once and then taken from ~/.cache/smvm.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where the time goes: one line per step on stderr, and the total.
step_start=$SECONDS
took() { echo "test.sh: $1 took $((SECONDS - step_start)) s (total $SECONDS s)" >&2; step_start=$SECONDS; }
tools/build-kernel.sh >/dev/null
took "the guest kernel (cached after the first build)"
cmake -S . -B build -DSMVM_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
took "building smvm and its tests"
ctest --test-dir build --output-on-failure "$@"
took "ctest (unit, CLI, images, harness and the nested e2e suites)"

# Sanitizers: no -Werror here, GCC 12 warns falsely inside libstdc++ under ASan.
# Unoptimized: the checks are the same, and GCC compiles a CAF-heavy file
# under ASan/UBSan about 3 times faster at -O0 than at -O2 (machine_actor.cpp:
# 30 s against 83 s here), which was most of CI's sanitizer step.
cmake -S . -B build-asan -DSMVM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$(nproc)" --target smvm smvm_unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build-asan/tests/smvm_unit_tests
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 tests/cli/errors.sh build-asan
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 tests/cli/vm_verbs.sh build-asan
took "the ASan/UBSan build, unit and CLI tests"

# Fuzz the virtqueue and block request parsing, vsock's and virtio-net's queues, the guest agent's answers and the
# workload channel's frames, for a bounded time (clang, libFuzzer).
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSMVM_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target virtqueue_fuzz workload_stream_fuzz vsock_fuzz agent_frame_fuzz net_fuzz
mkdir -p build-fuzz/corpus build-fuzz/stream-corpus build-fuzz/vsock-corpus build-fuzz/agent-corpus build-fuzz/net-corpus
build-fuzz/virtqueue_fuzz -max_total_time="${SMVM_FUZZ_SECONDS:-60}" -max_len=70000 build-fuzz/corpus 2>&1 | tail -n 2
build-fuzz/workload_stream_fuzz -max_total_time="${SMVM_FUZZ_SECONDS:-30}" -max_len=20000 build-fuzz/stream-corpus 2>&1 | tail -n 2
build-fuzz/vsock_fuzz -max_total_time="${SMVM_FUZZ_SECONDS:-30}" -max_len=70000 build-fuzz/vsock-corpus 2>&1 | tail -n 2
build-fuzz/agent_frame_fuzz -max_total_time="${SMVM_FUZZ_SECONDS:-20}" -max_len=140000 build-fuzz/agent-corpus 2>&1 | tail -n 2
build-fuzz/net_fuzz -max_total_time="${SMVM_FUZZ_SECONDS:-30}" -max_len=140000 build-fuzz/net-corpus 2>&1 | tail -n 2
took "the fuzzer's build and run"
