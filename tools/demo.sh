#!/usr/bin/env bash
# Builds smvm and its guest kernel (cached), then boots examples/hello.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build-kernel.sh >/dev/null
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec tools/kvm-run build/smvm --config examples/hello.toml
