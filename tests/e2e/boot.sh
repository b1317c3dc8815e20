#!/usr/bin/env bash
# End-to-end tests on KVM: boot the project's kernel with test initramfs
# images and check what the guest printed and how smvm exited. Run it where
# KVM works (tools/kvm-run does that): one nested guest boot runs them all.
#   tests/e2e/boot.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/env.sh" "$1"

# initramfs NAME <<< SCRIPT: a test guest whose init runs SCRIPT.
initramfs() {
  cat > "$work/$1.sh"
  "$root/guest/mkinitramfs.sh" --init "$work/$1.sh" --exit-helper "$build/smvm-exit" --out "$work/$1.cpio.gz"
}
# vm NAME INITRD [EXTRA TOML LINES...]: writes $work/NAME.toml.
vm() {
  local name=$1 initrd=$2; shift 2
  { echo '[machine]'; printf '%s\n' "$@" | grep -v '^\[' || true
    echo '[boot]'; echo "initrd = \"$initrd.cpio.gz\""; echo 'cmdline = "quiet"'; } > "$work/$name.toml"
}

run "$smvm" --config "$root/examples/hello.toml"
check "examples/hello.toml prints its line and exits 0" \
  '[[ $rc == 0 && $out == *"Hello from an smvm guest: Linux 6.1"* ]]'
check "the guest's console output goes to stdout only" '[[ $err != *"Hello from"* ]]'

initramfs status3 <<'INIT'
echo "about to report 3"
exec smvm-exit 3
INIT
vm status3 status3
run "$smvm" --config "$work/status3.toml"
check "an init that reports status 3 makes smvm exit 3" '[[ $rc == 3 && $out == *"about to report 3"* ]]'

initramfs cpus <<'INIT'
mount -t proc proc /proc
n=$(grep -c ^processor /proc/cpuinfo)
echo "guest sees $n CPUs"
[ "$n" = 2 ] && exec smvm-exit 0
exec smvm-exit 1
INIT
vm cpus2 cpus 'vcpus = 2'
run "$smvm" --config "$work/cpus2.toml"
check "vcpus = 2 gives a guest that sees two CPUs" '[[ $rc == 0 && $out == *"guest sees 2 CPUs"* ]]'

# The UART sends from an interrupt-driven buffer that `reboot -f` does not
# wait for: give the line a moment to leave before the reset.
initramfs reboot <<'INIT'
echo "rebooting"
sleep 1
reboot -f
INIT
vm reboot reboot
run "$smvm" --config "$work/reboot.toml"
check "a guest reboot (reboot=k, the i8042) ends the VM with status 0" \
  '[[ $rc == 0 && $out == *"rebooting"* && $err != *"triple fault"* ]]'
sed 's/^cmdline = "quiet"$/cmdline = "quiet reboot=t"/' "$work/reboot.toml" > "$work/triple.toml"
run --resets "$smvm" --config "$work/triple.toml"
check "a triple fault (reboot=t) ends the VM with status 0 and says so on stderr" \
  '[[ $rc == 0 && $out == *"rebooting"* && $err == *"the guest reset the machine (triple fault)"* ]]'

initramfs echo <<'INIT'
read -r line
echo "guest got: $line"
exec smvm-exit 0
INIT
vm echo echo
run --stdin $'ping from the host\n' "$smvm" --config "$work/echo.toml"
check "terminal input reaches the guest through the UART" '[[ $rc == 0 && $out == *"guest got: ping from the host"* ]]'

initramfs sleeper <<'INIT'
echo "sleeping"
exec sleep 1000
INIT
vm sleeper sleeper
set +e
( "$smvm" --config "$work/sleeper.toml" >"$work/sleeper.out" 2>&1 & pid=$!
  for _ in $(seq 600); do grep -q sleeping "$work/sleeper.out" 2>/dev/null && break; sleep 0.5; done
  kill -TERM $pid; wait $pid ); rc=$?
set -e
out=$(cat "$work/sleeper.out"); err=
check "SIGTERM stops the VM cleanly with status 143" '[[ $rc == 143 && $out == *sleeping* ]]'

vm small status3 'memory_mib = 16'
run "$smvm" --config "$work/small.toml"
check "memory too small for the kernel and initrd is refused" \
  '[[ $rc == 125 && $err == *"small.toml:2: machine.memory_mib: 16 MiB of memory is too small"* ]]'

vm many status3 'vcpus = 300'
run "$smvm" --config "$work/many.toml"
check "more vCPUs than the MP table holds are refused" '[[ $rc == 125 && $err == *"many.toml:2: machine.vcpus must be at most 254, got 300"* ]]'

finish
