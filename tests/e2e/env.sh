# Sourced by every end-to-end suite with its BUILD_DIR argument: sets $build,
# $root and $smvm, loads tests/lib.sh, and checks that KVM is here.
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
smvm=$build/smvm
source "$root/tests/lib.sh"
"$root/tools/kvm-usable" || { echo "$(basename "$0"): no usable /dev/kvm here; run it through tools/kvm-run" >&2; exit 125; }
