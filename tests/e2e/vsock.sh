#!/usr/bin/env bash
# End-to-end tests of virtio-vsock on KVM, through the Unix sockets smvm
# gives the host (uds_path, the Firecracker way): a host CONNECT to a guest
# listener and a guest connect to a host listener, each with BYTES each way
# at once and checksums compared across (guest/vsock-peer.c in the guest,
# tests/e2e/vsock_host.cpp on the host), a CONNECT to a guest port nobody
# listens on (EOF, no OK) and a guest connect to a host port nobody listens
# on (the connect fails); and a guest flooding 100 connections into a host
# program that never reads (credit stops it, smvm's memory stays bounded).
# Cost: about 45 s nested (three VM boots, 50 MiB each way twice, a 10 s
# flood),
# each boot bounded by TEST_TIMEOUT (240 s) plus 70 s; SMVM_VSOCK_BYTES
# sets the size. Run through tools/kvm-run, like boot.sh.
#   [SMVM_VSOCK_BYTES=N] tests/e2e/vsock.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/env.sh" "$1"
host_peer=$build/smvm-test-vsock-host
limit=${TEST_TIMEOUT:-240}
bytes=${SMVM_VSOCK_BYTES:-52428800}
# Not 1: the last steps' one-byte exchanges must not pass for the big ones.
[[ $bytes =~ ^[0-9]+$ && $bytes -ge 1024 ]] || { echo "vsock.sh: SMVM_VSOCK_BYTES must be a number of at least 1024" >&2; exit 1; }

# initramfs NAME <<< SCRIPT: a test guest with vsock-peer, whose init
# mounts /proc, /sys and /dev and sets n=$bytes, then runs SCRIPT.
initramfs() {
  { echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
    echo "n=$bytes"; cat; } > "$work/$1.sh"
  "$root/guest/mkinitramfs.sh" --init "$work/$1.sh" --exit-helper "$build/smvm-exit" \
    --add "$build/vsock-peer:/bin/vsock-peer" --out "$work/$1.cpio.gz"
}
# vm NAME: $work/NAME.toml, the guest NAME with a vsock device whose host
# side is $work/v.sock.
vm() {
  printf '[boot]\ninitrd = "%s.cpio.gz"\ncmdline = "quiet"\n[vsock]\ncid = 3\nuds_path = "v.sock"\n' "$1" > "$work/$1.toml"
}

# start_vm NAME: smvm on $work/NAME.toml in the background ($vm_pid), its
# console in $work/vm.out; TEST_TIMEOUT bounds it.
start_vm() {
  rm -f "$work/v.sock"
  timeout -k 10 --preserve-status "$limit" "$smvm" --config "$work/$1.toml" </dev/null >"$work/vm.out" 2>"$work/vm.err" &
  vm_pid=$!
}
# peer STEP ARGS...: the host peer in the background ($peer_pid), its
# output in $work/STEP.out; not started once the VM has ended.
peer() {
  local step=$1; shift
  peer_pid=
  if [[ -n $vm_pid ]] && ! kill -0 "$vm_pid" 2>/dev/null; then echo "not run: the VM had ended" >"$work/$step.out"; return; fi
  "$host_peer" "$@" >"$work/$step.out" 2>&1 &
  peer_pid=$!
}
# await_peer STEP: $peer_rc[STEP] is the peer's status. A peer still running
# 5 s after the VM ended (it would wait for a guest that is gone) is stopped.
declare -A peer_rc
vm_pid=
await_peer() {
  local ended=
  [[ -n $peer_pid ]] || { peer_rc[$1]=none; return; }
  while kill -0 "$peer_pid" 2>/dev/null; do
    if [[ -z $ended ]] && ! kill -0 "$vm_pid" 2>/dev/null; then ended=$SECONDS; fi
    if [[ -n $ended ]] && ((SECONDS - ended >= 5)); then kill "$peer_pid" 2>/dev/null; break; fi
    sleep 0.1
  done
  peer_rc[$1]=0; wait "$peer_pid" || peer_rc[$1]=$?
}
# end_vm STEP...: waits up to 60 s for the VM to end by itself, then stops
# it; sets rc, out (the console) and err (smvm's stderr and each STEP's
# host output), which check shows when a case fails.
end_vm() {
  for _ in $(seq 600); do kill -0 "$vm_pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$vm_pid" 2>/dev/null && echo "# the VM did not end within 60 s of the host's last step; stopped it"
  rc=0; wait "$vm_pid" || rc=$?
  out=$(tr -d '\0' <"$work/vm.out")
  err=$(tr -d '\0' <"$work/vm.err"; for step; do echo "host $step (status ${peer_rc[$step]}): $(cat "$work/$step.out")"; done)
}
# sum WHAT: the checksum on the line "WHAT $bytes checksum X" of stdin.
sum() { sed -n "s/.*$1 $bytes checksum \([0-9a-f]\{16\}\).*/\1/p" | head -n 1; }

# --- the host connects: CONNECT to a listener, then to a port with none ------
# The guest serves $n bytes on 5000, then one byte on 5002: the host's
# last step, so the VM lives until the host has tried port 5001, where
# nothing listens. Connecting to 5000 until OK waits out the guest's boot.
initramfs hc <<'INIT'
vsock-peer serve 5000 $n; a=$?; echo "serve status $a"
vsock-peer serve 5002 1; b=$?; echo "last serve status $b"
[ $a = 0 ] && [ $b = 0 ] && exec smvm-exit 0
exec smvm-exit 1
INIT
vm hc
host_connects() {
  set +e
  start_vm hc
  peer a connect --retry-until-ok "$limit" "$work/v.sock" 5000 "$bytes"; await_peer a
  peer c connect "$work/v.sock" 5001 1; await_peer c
  peer last connect --retry-until-ok 60 "$work/v.sock" 5002 1; await_peer last
  end_vm a c last
  set -e
}
host_connects
again_after_reset "$rc" "$work/vm.err" "$work/vm.out" && host_connects
check "a host CONNECT to a guest listener gets OK" '[[ ${peer_rc[a]} == 0 && $(cat "$work/a.out") == "host got OK"* ]]'
h=$(sum "host sent" <"$work/a.out") g=$(sum "guest received" <<<"$out")
check "$bytes bytes from the host reach the guest's listener whole" '[[ -n $h && $h == "$g" ]]'
g=$(sum "guest sent" <<<"$out") h=$(sum "host received" <"$work/a.out")
check "$bytes bytes from the guest's listener reach the host whole, at the same time" '[[ -n $g && $g == "$h" ]]'
check "a CONNECT to a port nothing in the guest listens on gets EOF, no OK" \
  '[[ ${peer_rc[c]} == 3 && $(cat "$work/c.out") == "no OK: EOF" ]]'
check "the guest's listeners end well and the VM exits 0" \
  '[[ $rc == 0 && $out == *"serve status 0"*"last serve status 0"* && ${peer_rc[last]} == 0 ]]'

# --- the guest connects: to a host listener, then to a port with none ------
# The host listens on v.sock_5000 before the VM starts; nothing listens on
# v.sock_5001.
initramfs gc <<'INIT'
vsock-peer connect 5000 $n; a=$?; echo "connect status $a"
vsock-peer connect 5001 1; b=$?; echo "unheard connect status $b"
[ $a = 0 ] && [ $b = 3 ] && exec smvm-exit 0
exec smvm-exit 1
INIT
vm gc
guest_connects() {
  set +e
  vm_pid=
  rm -f "$work/v.sock_5001"
  peer b listen "$work/v.sock_5000" "$bytes"
  for _ in $(seq 100); do grep -q listening "$work/b.out" && break; sleep 0.1; done
  start_vm gc
  await_peer b
  end_vm b
  set -e
}
guest_connects
again_after_reset "$rc" "$work/vm.err" "$work/vm.out" && guest_connects
check "a guest connect to CID 2 reaches the host's listener on uds_path_PORT" \
  '[[ ${peer_rc[b]} == 0 && $out == *"connect status 0"* ]]'
g=$(sum "guest sent" <<<"$out") h=$(sum "host received" <"$work/b.out")
check "$bytes bytes from the guest reach the host's listener whole" '[[ -n $g && $g == "$h" ]]'
h=$(sum "host sent" <"$work/b.out") g=$(sum "guest received" <<<"$out")
check "$bytes bytes from the host's listener reach the guest whole, at the same time" '[[ -n $h && $h == "$g" ]]'
check "a guest connect to a host port nothing listens on is reset or refused" \
  '[[ ( $out == *"connect failed: Connection reset by peer"* || $out == *"connect failed: Connection refused"* ) &&
     $out == *"unheard connect status 3"* ]]'
check "the VM exits 0 once the guest has seen both" '[[ $rc == 0 ]]'

# --- a guest floods a host program that never reads --------------------------
# 100 connections to v.sock_6000, whose listener (socat, with a backlog for
# them all: a full one refuses a connect, which the guest sees as a reset;
# into a sleep that never reads) takes a few hundred KiB each and then nothing. smvm holds at
# most 256 KiB of each connection's bytes, then gives the guest no more
# credit: its writes stop, and smvm's own memory (RssAnon: guest RAM is
# shared memory, not counted there) grows by a bounded amount.
initramfs fl <<'INIT'
vsock-peer flood 6000 100; echo "flood status $?"
exec smvm-exit 0
INIT
vm fl
flood_case() {
  set +e
  vm_pid=
  rm -f "$work/v.sock_6000"
  setsid socat -d -u UNIX-LISTEN:"$work/v.sock_6000",fork,backlog=256 SYSTEM:"sleep 300" 2>"$work/socat.err" &
  socat_pid=$!
  for _ in $(seq 100); do [[ -S $work/v.sock_6000 ]] && break; sleep 0.1; done
  start_vm fl
  first= peak=0
  while kill -0 "$vm_pid" 2>/dev/null; do
    pid=$(pgrep -P "$vm_pid" -x smvm)
    anon=$( [[ -n $pid ]] && awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    if [[ -n $anon ]]; then
      [[ -z $first ]] && grep -q flooding "$work/vm.out" && first=$anon
      ((anon > peak)) && peak=$anon
    fi
    sleep 0.2
  done
  kill -TERM -- -"$socat_pid" 2>/dev/null
  end_vm
  err+=$'\n'"socat: $(tail -5 "$work/socat.err")"
  set -e
}
flood_case
again_after_reset "$rc" "$work/vm.err" "$work/vm.out" && flood_case
check "a flood into a host program that never reads is held back by credit ($(grep -o 'flood: .*end' <<<"$out"))" \
  '[[ $out == *"flood: 100 connections"* && $(sed -n "s/.*the last write \([0-9]*\) ms.*/\1/p" <<<"$out") -ge 2000 ]]'
check "smvm's own memory grows by at most 64 MiB under it (from ${first:-?} KiB to $peak KiB)" \
  '[[ -n $first && $((peak - first)) -lt 65536 ]]'
check "the flooding VM goes on and exits 0" '[[ $rc == 0 && $out == *"flood status 0"* ]]'

finish
