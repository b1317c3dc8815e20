#!/usr/bin/env bash
# Images without KVM: the test image (tests/e2e/make-image.sh) imported as
# a docker-archive, an OCI layout and an OCI archive, and pulled from
# Debian's docker-registry on 127.0.0.1; then hostile images, each refused
# with a clear error and nothing written outside the cache. Leaves the
# store in BUILD_DIR/e2e-images/ for tests/e2e/run.sh (inside the nested
# guest, where the registry is not reachable).
#   tests/e2e/images.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
smvm=$build/smvm
source "$root/tests/lib.sh"
images=$build/e2e-images
rm -rf "$images"
mkdir -p "$images/cache" "$images/hostile"
export SMVM_CACHE=$images/cache
kernel=$(readlink -f "${XDG_CACHE_HOME:-$HOME/.cache}/smvm/bzImage")
ln -s "$kernel" "$SMVM_CACHE/bzImage"  # `smvm run` finds its default kernel here

"$root/tests/e2e/make-image.sh" "$images/image" || { echo "not ok - building the test image"; exit 1; }
tar -C "$images/image/oci" -cf "$images/image/oci-archive.tar" .

run "$smvm" pull "$images/image/test.tar"
check "a docker-archive imports and unpacks" '[[ $rc == 0 ]]'
run "$smvm" pull "$images/image/oci:test"
check "an OCI layout folder imports" '[[ $rc == 0 ]]'
run "$smvm" pull "oci-archive:$images/image/oci-archive.tar"
check "an OCI archive imports" '[[ $rc == 0 ]]'
id=$("$smvm" pull "$images/image/test.tar" | tail -n1)
# The docker-archive holds its layers uncompressed, the OCI layout gzipped:
# two root disks; the OCI archive shares the layout's.
run test "$(ls "$SMVM_CACHE"/images/rootfs/*.ext4 | wc -l)" = 2
check "one root disk per set of layers" '[[ $rc == 0 ]]'
run bash -c 'for d in "$1"/images/rootfs/*.ext4; do e2fsck -fn "$d" || exit 1; done' - "$SMVM_CACHE"
check "the root disk checks clean with e2fsck" '[[ $rc == 0 ]]'

# A registry on loopback, as `docker run registry` would give.
port=$((20000 + RANDOM % 20000))
cat >"$images/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $images/registry
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$images/registry.yml" >"$images/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy --quiet --dest-tls-verify=false "oci:$images/image/oci:test" "docker://127.0.0.1:$port/smvm/test:1"
run "$smvm" pull "127.0.0.1:$port/smvm/test:1"
check "an image pulls from docker-registry on 127.0.0.1" '[[ $rc == 0 ]]'
echo "127.0.0.1:$port/smvm/test:1" >"$images/registry-ref"
run "$smvm" pull "127.0.0.1:$port/smvm/test:2"
check "a missing tag is a clear error" '[[ $rc == 125 && $err == *"manifest 2 not found"* ]]'
run test "$("$smvm" images | grep -c "${id:7:12}")" = 4
check "smvm images lists all four names" '[[ $rc == 0 ]]'
kill $registry_pid

run "$smvm" rmi "oci-archive:$images/image/oci-archive.tar"
check "rmi forgets a name" '[[ $rc == 0 && "$("$smvm" images)" != *oci-archive* ]]'
check "and keeps what other names use" '[[ $(ls "$SMVM_CACHE"/images/rootfs/*.ext4 | wc -l) == 2 ]]'
run env SMVM_CACHE="$images/rmi" bash -c '"$1" pull "$2" >/dev/null && "$1" rmi "$2" >/dev/null &&
  find "$SMVM_CACHE"/images/blobs "$SMVM_CACHE"/images/rootfs -type f' - "$smvm" "$images/image/test.tar"
check "rmi of the last name deletes its blobs and root disk" '[[ $rc == 0 && -z $out ]]'

# Hostile images: each is the test image with one part made bad.
canary_before=$(md5sum /etc/passwd /etc/shadow 2>/dev/null)
hostile_cache=$images/hostile/cache
# refused NAME TEXT CMD...: CMD, on the hostile images' store, fails with
# status 125 and TEXT in its error.
refused() {
  local name=$1
  expected=$2
  shift 2
  rm -rf "$hostile_cache"  # a fresh store: one that has a blob never reads it again
  SMVM_CACHE=$hostile_cache run "$@"
  check "$name" '[[ $rc == 125 && $err == *"$expected"* ]]'
}
bad_image() {  # NAME: a fresh copy of the OCI layout to spoil
  rm -rf "$images/hostile/$1"
  cp -r "$images/image/oci" "$images/hostile/$1"
  echo "$images/hostile/$1"
}
manifest_of() { sed -E 's/.*"digest":"sha256:([0-9a-f]{64})".*/\1/' "$1/index.json"; }
first_layer_of() { grep -oE '"layers":\[\{"mediaType":"[^"]+","digest":"sha256:[0-9a-f]{64}' "$1/blobs/sha256/$(manifest_of "$1")" | grep -oE '[0-9a-f]{64}$'; }

for kind in traversal absolute-symlink hardlink-outside; do
  dir=$(bad_image "$kind")
 "$build/smvm-test-hostile-layer" "$kind" "$images/hostile/$kind.tar"
  umoci raw add-layer --image "$dir:test" "$images/hostile/$kind.tar"
done
refused "a layer with ../ is refused" "entry \"../../escaped\": \"..\" would land outside the image root" "$smvm" pull "$images/hostile/traversal:test"
refused "a file through an absolute symlink is refused" "goes through the symlink \"evil\"" "$smvm" pull "$images/hostile/absolute-symlink:test"
refused "a hard link to outside is refused" "hard link to \"../../etc/shadow\"" "$smvm" pull "$images/hostile/hardlink-outside:test"
run test ! -e "$images/escaped" -a ! -e "$images/hostile/escaped" -a ! -e "$build/escaped"
check "nothing escaped the cache" '[[ $rc == 0 ]]'
run test "$(md5sum /etc/passwd /etc/shadow 2>/dev/null)" = "$canary_before"
check "host files are untouched" '[[ $rc == 0 ]]'

dir=$(bad_image mismatch)
layer=$(first_layer_of "$dir")
printf 'X' | dd of="$dir/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc status=none
refused "a blob that does not match its digest is refused" "digest mismatch" "$smvm" pull "$dir:test"
run test ! -e "$hostile_cache/images/blobs/sha256/$layer"
check "the bad blob is not kept" '[[ $rc == 0 ]]'

dir=$(bad_image missing)
layer=$(first_layer_of "$dir")
rm "$dir/blobs/sha256/$layer"
refused "a manifest naming a missing blob is refused" "which the layout does not hold" "$smvm" pull "$dir:test"

# A corrupt gzip stream whose digest is right: spoil the layer, then
# re-address it and the manifest that names it.
dir=$(bad_image corrupt)
layer=$(first_layer_of "$dir")
manifest=$(manifest_of "$dir")
blob=$dir/blobs/sha256/$layer
size=$(stat -c %s "$blob")
printf 'garbage garbage garbage garbage' | dd of="$blob" bs=1 seek=$((size / 2)) conv=notrunc status=none
new_layer=$(sha256sum "$blob" | cut -d' ' -f1)
mv "$blob" "$dir/blobs/sha256/$new_layer"
sed -i "s/$layer/$new_layer/" "$dir/blobs/sha256/$manifest"
new_manifest=$(sha256sum "$dir/blobs/sha256/$manifest" | cut -d' ' -f1)
mv "$dir/blobs/sha256/$manifest" "$dir/blobs/sha256/$new_manifest"
sed -i "s/$manifest/$new_manifest/" "$dir/index.json"
refused "a corrupt gzip layer is refused, naming the layer" "layer 1 (sha256:$new_layer)" "$smvm" pull "$dir:test"
run test -z "$(ls "$hostile_cache/images/rootfs" 2>/dev/null)" -a  -z "$(ls "$hostile_cache/images/tmp" 2>/dev/null)"
check "no half-built root disk is left" '[[ $rc == 0 ]]'
finish
