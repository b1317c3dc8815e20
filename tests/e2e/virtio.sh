#!/usr/bin/env bash
# End-to-end tests of the virtio devices on KVM: virtio-blk on an ext4
# image (checked on the host with debugfs), a read-only disk, virtio-rng and
# virtio-console. Run through tools/kvm-run, like boot.sh.
#   tests/e2e/virtio.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/env.sh" "$1"
export PATH=$PATH:/usr/sbin:/sbin

# initramfs NAME <<< SCRIPT: a test guest whose init mounts /proc, /sys and
# /dev, then runs SCRIPT.
initramfs() {
  { echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
    # With a virtio console, Linux adds hvc0 from a workqueue (MULTIPORT), so
    # init may start before it exists and get no console: wait and reopen it.
    echo 'if grep -q console=hvc0 /proc/cmdline; then'
    echo '  for i in $(seq 600); do [ -e /sys/class/tty/hvc0 ] && break; sleep 0.05; done'
    echo '  exec </dev/hvc0 >/dev/hvc0 2>&1; fi'
    cat; } > "$work/$1.sh"
  "$root/guest/mkinitramfs.sh" --init "$work/$1.sh" --exit-helper "$build/smvm-exit" --out "$work/$1.cpio.gz"
}
# vm NAME INITRD <<< TOML: $work/NAME.toml with the initrd and a quiet
# kernel, plus the sections given.
vm() {
  { printf '[boot]\ninitrd = "%s.cpio.gz"\ncmdline = "quiet"\n' "$2"; cat; } > "$work/$1.toml"
}

# --- virtio-blk: the guest writes an ext4 disk, the host reads it ---------
truncate -s 64M "$work/data.ext4"
mkfs.ext4 -q -F "$work/data.ext4"
initramfs blk <<'INIT'
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || exec smvm-exit 10
echo "written by the guest" > /mnt/hello.txt
mkdir -p /mnt/dir && dd if=/dev/urandom of=/mnt/dir/blob bs=1M count=8 2>/dev/null
echo "guest md5 $(md5sum /mnt/dir/blob | cut -d' ' -f1)"
echo "guest sees $(cat /sys/block/vda/size) sectors"
sync
umount /mnt || exec smvm-exit 11
exec smvm-exit 0
INIT
vm blk blk <<'TOML'
[[disk]]
path = "data.ext4"
TOML
run "$smvm" --config "$work/blk.toml"
check "the guest mounts, writes and unmounts an ext4 disk on virtio-blk" '[[ $rc == 0 ]]'
check "the guest sees the disk's size" '[[ $out == *"guest sees 131072 sectors"* ]]'
guest_md5=$(sed -n 's/.*guest md5 \([0-9a-f]*\).*/\1/p' <<<"$out")
host_text=$(debugfs -R "cat /hello.txt" "$work/data.ext4" 2>/dev/null)
check "the host reads the guest's file with debugfs" '[[ $host_text == "written by the guest" ]]'
debugfs -R "dump /dir/blob $work/blob" "$work/data.ext4" >/dev/null 2>&1
host_md5=$(md5sum "$work/blob" | cut -d' ' -f1)
check "8 MiB written by the guest arrive intact" '[[ -n $guest_md5 && $host_md5 == "$guest_md5" ]]'
fsck_rc=0; e2fsck -fn "$work/data.ext4" >"$work/fsck.out" 2>&1 || fsck_rc=$?
check "the file system the guest left is clean (e2fsck -fn)" '[[ $fsck_rc == 0 ]]'

# --- a read-only disk --------------------------------------------------------
before=$(md5sum "$work/data.ext4" | cut -d' ' -f1)
initramfs ro <<'INIT'
mkdir -p /mnt
echo "ro flag $(cat /sys/block/vda/ro)"
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null; then echo "raw write accepted"; fi
# busybox mount falls back to read-only when the device refuses writes
mount -t ext4 /dev/vda /mnt || exec smvm-exit 10
grep -q ' /mnt ext4 rw' /proc/mounts && echo "mounted rw"
mount -o remount,rw /mnt 2>/dev/null && echo "remounted rw"
echo "read back: $(cat /mnt/hello.txt)"
if echo x > /mnt/new.txt 2>/dev/null; then echo "file write accepted"; fi
exec smvm-exit 0
INIT
vm ro ro <<'TOML'
[[disk]]
path = "data.ext4"
read_only = true
TOML
run "$smvm" --config "$work/ro.toml"
check "a read-only disk mounts read-only and reads back" \
  '[[ $rc == 0 && $out == *"ro flag 1"* && $out == *"read back: written by the guest"* ]]'
check "a read-only disk refuses raw writes, rw mounts and file writes" \
  '[[ $out != *"raw write accepted"* && $out != *"mounted rw"* && $out != *"remounted rw"* && $out != *"file write accepted"* ]]'
after=$(md5sum "$work/data.ext4" | cut -d' ' -f1)
check "the read-only image is unchanged on the host" '[[ $before == "$after" ]]'

# --- two disks come up as vda and vdb in vm.toml order ----------------------
truncate -s 1M "$work/small.img"
initramfs two <<'INIT'
echo "vda $(cat /sys/block/vda/size) vdb $(cat /sys/block/vdb/size)"
exec smvm-exit 0
INIT
vm two two <<'TOML'
[[disk]]
path = "data.ext4"
read_only = true
[[disk]]
path = "small.img"
TOML
run "$smvm" --config "$work/two.toml"
check "two disks are vda and vdb in vm.toml order" '[[ $rc == 0 && $out == *"vda 131072 vdb 2048"* ]]'

# --- virtio-rng ---------------------------------------------------------------
initramfs rng <<'INIT'
echo "rng $(cat /sys/class/misc/hw_random/rng_current)"
a=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
b=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
echo "hwrng a=$a"
echo "hwrng b=$b"
exec smvm-exit 0
INIT
vm rng rng <<'TOML'
[rng]
TOML
run "$smvm" --config "$work/rng.toml"
a=$(sed -n 's/.*hwrng a=\([0-9a-f]*\).*/\1/p' <<<"$out")
b=$(sed -n 's/.*hwrng b=\([0-9a-f]*\).*/\1/p' <<<"$out")
check "the guest's hwrng is virtio-rng" '[[ $rc == 0 && $out == *"rng virtio_rng.0"* ]]'
check "the guest reads 32 fresh bytes twice from /dev/hwrng" '[[ ${#a} == 64 && ${#b} == 64 && $a != "$b" ]]'

# --- virtio-console as the guest console ---------------------------------------
initramfs hvc <<'INIT'
echo "console is $(cat /sys/class/tty/console/active)"
read -r line
echo "guest got: $line"
exec smvm-exit 0
INIT
vm hvc hvc <<'TOML'
[console]
device = "virtio"
TOML
run --stdin $'ping over virtio\n' "$smvm" --config "$work/hvc.toml"
check "virtio-console is the guest console (hvc0)" '[[ $rc == 0 && $out == *"console is hvc0"* ]]'
check "terminal input reaches the guest through virtio-console" '[[ $out == *"guest got: ping over virtio"* ]]'

# --- everything at once, with two vCPUs ----------------------------------------
initramfs all <<'INIT'
mkdir -p /mnt && mount -o ro /dev/vda /mnt && cat /mnt/hello.txt
head -c 16 /dev/hwrng | wc -c
exec smvm-exit 0
INIT
vm all all <<'TOML'
[machine]
vcpus = 2
[[disk]]
path = "data.ext4"
read_only = true
[rng]
[console]
device = "virtio"
TOML
run "$smvm" --config "$work/all.toml"
check "a disk, the rng and the console together on two vCPUs" \
  '[[ $rc == 0 && $out == *"written by the guest"* && $out == *16* ]]'

# --- a disk the device cannot serve is a configuration error ------------------
head -c 1000 /dev/zero > "$work/odd.img"
vm odd all <<'TOML'
[[disk]]
path = "odd.img"
TOML
run "$smvm" --config "$work/odd.toml"
check "a disk image that is not whole sectors is refused with its line" \
  '[[ $rc == 125 && $err == *"odd.toml:5: disk[0].path: "*"512"* ]]'

finish
