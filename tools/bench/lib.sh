# Sourced by the bench scripts: where things are, and the one way a bench
# goes nested.
#   source "$(dirname "$0")/lib.sh"; go_nested_unless_kvm "$@"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The kernel cache as smvm and tools/build-kernel.sh resolve it.
smvm_cache=${SMVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smvm}

# go_nested_unless_kvm ARGS...: where /dev/kvm is absent or unusable
# (tools/kvm-usable), builds the kernel and smvm, then runs this same script
# with ARGS inside one nested guest (tools/kvm-run), so every VMM it
# compares sees the same L1 machine; there, and where KVM works, returns.
go_nested_unless_kvm() {
  "$root/tools/kvm-usable" || [[ -n ${SMVM_BENCH_INSIDE-} ]] && return 0
  cd "$root"
  tools/build-kernel.sh >/dev/null
  cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null
  SMVM_BENCH_INSIDE=1 exec tools/kvm-run "$0" "$@"
}

# Says where the figures come from, for each bench's header line.
bench_where() { [[ -n ${SMVM_BENCH_INSIDE-} ]] && echo "nested KVM (L1 under QEMU TCG)" || echo "KVM"; }
