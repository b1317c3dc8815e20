#!/usr/bin/env bash
# Builds the smvm guest kernel from Debian's linux-source-6.1 and caches it.
#
# The cache key is a hash of guest/kernel.config, the build recipe version
# below and the linux-source package version, so a rebuild happens only
# when one of them changes. Output: $SMVM_CACHE/kernels/<key>/bzImage, and the stable link
# $SMVM_CACHE/bzImage that smvm uses when a config names no kernel.
# Prints the bzImage path on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${SMVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smvm}
fragment=$here/guest/kernel.config
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
[[ -n $tarball ]] || { echo "build-kernel: /usr/src/linux-source-6.1.tar.xz is missing; run tools/setup.sh" >&2; exit 1; }

# Bump when the configure or make steps below change what gets built.
recipe=1
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( (cat "$fragment"; echo "recipe $recipe"; echo "linux-source $src_version") | sha256sum | cut -c1-16)
out=$cache/kernels/$key
if [[ -f $out/bzImage ]]; then
  ln -sfn "kernels/$key/bzImage" "$cache/bzImage"
  echo "$out/bzImage"
  exit 0
fi

work=$cache/build/linux-$key
# Trees of other keys are from an interrupted build of an older config.
for stale in "$cache"/build/linux-*; do
  [[ -d $stale && $stale != "$work" ]] && rm -rf "$stale"
done
mkdir -p "$work" "$out"
if [[ ! -f $work/.extracted ]]; then
  echo "build-kernel: extracting $tarball" >&2
  tar -xJf "$tarball" -C "$work" --strip-components=1
  touch "$work/.extracted"
fi
cd "$work"
echo "build-kernel: configuring (allnoconfig + guest/kernel.config)" >&2
make -s ARCH=x86_64 allnoconfig >&2
./scripts/kconfig/merge_config.sh -m -O . .config "$fragment" >/dev/null
make -s ARCH=x86_64 olddefconfig >&2
# Every option of the fragment must have survived dependency resolution.
missing=0
while IFS= read -r line; do
  [[ $line =~ ^CONFIG_ ]] || continue
  grep -qx "$line" .config || { echo "build-kernel: $line did not take effect" >&2; missing=1; }
done < "$fragment"
((missing == 0)) || exit 1
echo "build-kernel: building bzImage with $(nproc) jobs (about 15 minutes on 2 cores)" >&2
make -s ARCH=x86_64 -j"$(nproc)" bzImage >&2
cp arch/x86/boot/bzImage "$out/bzImage.tmp"
cp .config "$out/config"
mv "$out/bzImage.tmp" "$out/bzImage"
ln -sfn "kernels/$key/bzImage" "$cache/bzImage"
cd / && rm -rf "$work"
echo "$out/bzImage"
