#!/usr/bin/env bash
# End-to-end tests of virtio-net and the in-process switch on KVM: two VMs
# in one smvm process (smvm --config b.toml --config a.toml), each with a
# card on switch lan0, exchange BYTES each way over TCP (guest/net-peer.c)
# with checksums compared across; then, with 10% loss set on b's link
# through the control socket, LOSS_BYTES each way still arrive whole; with
# the link down a connect times out, and after the link is up again one
# works. b's init waits on its console (smvm's stdin, a fifo here) for the
# host to have changed the link before each step.
# Cost: about 60-120 s nested (one process of two VMs, 50 MiB each way,
# 2 MiB under loss, a 5 s timeout), bounded by TEST_TIMEOUT (300 s).
# SMVM_NET_BYTES and SMVM_NET_LOSS_BYTES set the sizes. Run through
# tools/kvm-run, like boot.sh.
#   [SMVM_NET_BYTES=N] [SMVM_NET_LOSS_BYTES=N] tests/e2e/net.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/env.sh" "$1"
limit=${TEST_TIMEOUT:-300}
bytes=${SMVM_NET_BYTES:-52428800}
lossy=${SMVM_NET_LOSS_BYTES:-2097152}
for n in "$bytes" "$lossy"; do
  [[ $n =~ ^[0-9]+$ && $n -ge 1024 ]] || { echo "net.sh: the sizes must be numbers of at least 1024" >&2; exit 1; }
done

# vm NAME MAC <<< SCRIPT: $work/NAME.toml, a guest with net-peer and one
# card (MAC) on lan0, its console in $work/NAME.out; its init mounts
# /proc, /sys and /dev, sets n and m to the sizes, then runs SCRIPT.
vm() {
  { echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
    echo "n=$bytes m=$lossy"; cat; } > "$work/$1.sh"
  "$root/guest/mkinitramfs.sh" --init "$work/$1.sh" --exit-helper "$build/smvm-exit" \
    --add "$build/net-peer:/bin/net-peer" --out "$work/$1.cpio.gz"
  printf '[boot]\ninitrd = "%s.cpio.gz"\ncmdline = "quiet"\n[console]\noutput = "%s.out"\n[[net]]\nswitch = "lan0"\nmac = "%s"\n' \
    "$1" "$1" "$2" > "$work/$1.toml"
}

vm a 02:00:00:00:00:01 <<'INIT'
ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
net-peer serve 5000 $n; echo "serve status $?"
net-peer serve 5001 $m; echo "lossy serve status $?"
net-peer serve 5002 1024; echo "after-up serve status $?"
exec smvm-exit 0
INIT
vm b 02:00:00:00:00:02 <<'INIT'
ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
ip link show eth0 | grep -o 'link/ether [0-9a-f:]*'
net-peer connect 10.0.0.1 5000 $n 120; echo "connect status $?"
echo "ready: loss"; read go
net-peer connect 10.0.0.1 5001 $m 120; echo "lossy connect status $?"
echo "ready: down"; read go
net-peer probe 10.0.0.1 5002 5; echo "probe status $?"
echo "ready: up"; read go
net-peer connect 10.0.0.1 5002 1024 60; echo "after-up connect status $?"
exec smvm-exit 0
INIT

# await LINE: true once b's console has LINE, false if the VMs ended first
# or it took more than TEST_TIMEOUT.
await() {
  local start=$SECONDS
  until grep -q "$1" "$work/b.out" 2>/dev/null; do
    kill -0 "$vm_pid" 2>/dev/null && ((SECONDS - start < limit)) || return 1
    sleep 0.2
  done
}
link() { api "$work/api.sock" "{\"action\": \"link\", \"switch\": \"lan0\", \"mac\": \"02:00:00:00:00:02\"$1}"; }

two_vms() {
  set +e
  rm -f "$work"/{a,b}.out "$work/in" "$work/api.sock"
  mkfifo "$work/in"
  timeout -k 10 --preserve-status $((limit * 2)) "$smvm" --api-sock "$work/api.sock" \
    --config "$work/b.toml" --config "$work/a.toml" <"$work/in" >"$work/vm.out" 2>"$work/vm.err" &
  vm_pid=$!
  exec 3>"$work/in"
  replies=
  if await "ready: loss"; then
    replies+="loss: $(link ', "loss": 0.1, "seed": 7')"$'\n'
    echo go >&3
  fi
  if await "ready: down"; then
    stats=$(api "$work/api.sock" '{"action": "switch", "switch": "lan0"}')
    replies+="down: $(link ', "down": true')"$'\n'
    echo go >&3
  fi
  if await "ready: up"; then
    replies+="up: $(link '')"$'\n'
    echo go >&3
  fi
  rc=0; wait "$vm_pid" || rc=$?
  exec 3>&-
  a=$(tr -d '\0' <"$work/a.out" 2>/dev/null) b=$(tr -d '\0' <"$work/b.out" 2>/dev/null)
  out="a: $a"$'\n'"b: $b"
  err="$(cat "$work/vm.err")"$'\n'"control: $replies"$'\n'"stats: ${stats-}"
  set -e
}
two_vms
again_after_reset "$rc" "$work/vm.err" && two_vms

# sum WHO WHAT SIZE: the checksum on WHO's console line "WHAT SIZE checksum X".
sum() { sed -n "s/.*$2 $3 checksum \([0-9a-f]\{16\}\).*/\1/p" <<<"$1" | head -n 1; }
check "the card has the MAC vm.toml gave it" '[[ $b == *"link/ether 02:00:00:00:00:02"* ]]'
x=$(sum "$b" sent "$bytes") y=$(sum "$a" received "$bytes")
check "$bytes bytes from one VM reach the other over the switch whole" '[[ -n $x && $x == "$y" ]]'
x=$(sum "$a" sent "$bytes") y=$(sum "$b" received "$bytes")
check "and $bytes bytes the other way, at the same time ($(grep -o 'exchanged in .*' <<<"$b" | head -n 1))" \
  '[[ -n $x && $x == "$y" && $b == *"connect status 0"* && $a == *"serve status 0"* ]]'
x=$(sum "$b" sent "$lossy") y=$(sum "$a" received "$lossy")
x2=$(sum "$a" sent "$lossy") y2=$(sum "$b" received "$lossy")
check "with 10% loss on the link, TCP still delivers $lossy bytes each way whole" \
  '[[ $replies == *"loss: {\"ok\":true}"* && -n $x && $x == "$y" && -n $x2 && $x2 == "$y2" &&
     $b == *"lossy connect status 0"* ]]'
check "the switch counted the frames the link lost" \
  '[[ $(grep -o "\"lost\":[0-9]*" <<<"${stats-}" | cut -d: -f2 | sort -n | tail -n 1) -gt 0 ]]'
check "with the link down a connect times out" \
  '[[ $replies == *"down: {\"ok\":true}"* && $b == *"connect failed: Connection timed out"*"probe status 3"* ]]'
check "with the link up again a connection works" \
  '[[ $replies == *"up: {\"ok\":true}"* && $b == *"after-up connect status 0"* && $a == *"after-up serve status 0"* ]]'
check "both VMs exit 0, and so does smvm" '[[ $rc == 0 && $(cat "$work/vm.err") == *"VM 0 exited 0"*"VM 1 exited 0"* ]]'
run "$smvm" --api-sock "$work/api.sock" --config "$work/b.toml" --config "$work/missing.toml"
check "a missing vm.toml among several is a clear error" '[[ $rc == 125 && $err == *"missing.toml"* ]]'

finish
