# Sourced by every end-to-end suite with its BUILD_DIR argument: sets $build,
# $root and $smvm, loads tests/lib.sh, and checks that KVM is here.
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
smvm=$build/smvm
source "$root/tests/lib.sh"
"$root/tools/kvm-usable" || { echo "$(basename "$0"): no usable /dev/kvm here; run it through tools/kvm-run" >&2; exit 125; }

# use_image_store: the store tests/e2e/images.sh made, as smvm's cache;
# sets $images and $archive (the test image as a docker-archive).
use_image_store() {
  images=$build/e2e-images
  [[ -d $images/cache/images ]] || { echo "$(basename "$0"): no image store; tests/e2e/images.sh makes it" >&2; exit 1; }
  export SMVM_CACHE=$images/cache
  archive=$images/image/test.tar
}
