#!/usr/bin/env bash
# Installs every Debian package smvm needs to build, test and boot guests.
# Idempotent: packages already present are skipped by apt.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries
  libcaf-dev libfmt-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  libarchive-dev zlib1g-dev catch2 libext2fs-dev libcurl4-openssl-dev libssl-dev libslirp-dev
  # guest kernel build (linux-source-6.1) and initramfs
  linux-source-6.1 bc bison flex libelf-dev libssl-dev cpio xz-utils zstd lz4
  busybox-static
  # nested-KVM harness: an L1 guest under QEMU TCG with Debian's kernel
  qemu-system-x86 linux-image-amd64 kmod
  # tests: e2fsck and debugfs; OCI images built offline and a loopback registry
  e2fsprogs umoci skopeo docker-registry curl socat
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
