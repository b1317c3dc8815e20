#!/usr/bin/env bash
# Builds a test or demo initramfs: busybox-static, smvm-exit and an init.
#
#   guest/mkinitramfs.sh --init SCRIPT --exit-helper SMVM_EXIT --out FILE.cpio.gz [--add SRC:DST]...
#
# The init script runs as PID 1 with busybox's applets on PATH after
# `busybox --install`; it ends the VM with `smvm-exit STATUS`.
set -euo pipefail
init= helper= out= adds=()
while (($#)); do
  case $1 in
    --init) init=$2; shift 2 ;;
    --exit-helper) helper=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --add) adds+=("$2"); shift 2 ;;
    *) echo "mkinitramfs: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n $init && -n $helper && -n $out ]] || { echo "usage: $0 --init SCRIPT --exit-helper FILE --out FILE [--add SRC:DST]..." >&2; exit 2; }
busybox=$(command -v busybox || true)
[[ -x /bin/busybox ]] && busybox=/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q "statically linked" || [[ $(ldd "$busybox" 2>&1) == *"not a dynamic"* ]] \
  || { echo "mkinitramfs: $busybox is not static; install busybox-static" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,etc,root,usr/bin,usr/sbin}
cp "$busybox" "$stage/bin/busybox"
cp "$helper" "$stage/bin/smvm-exit"
{ echo '#!/bin/busybox sh'; echo '/bin/busybox --install -s'; echo 'export PATH=/bin:/sbin:/usr/bin:/usr/sbin'; cat "$init"; } > "$stage/init"
chmod 755 "$stage/init"
for a in "${adds[@]}"; do
  mkdir -p "$stage/$(dirname "${a#*:}")"
  cp -a "${a%%:*}" "$stage/${a#*:}"
done
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet --owner 0:0 | gzip -6) > "$out.tmp"
mv "$out.tmp" "$out"
