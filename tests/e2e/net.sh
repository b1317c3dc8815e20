#!/usr/bin/env bash
# End-to-end tests of virtio-net and the in-process switch on KVM: two VMs
# in one smvm process (smvm --config b.toml --config a.toml), each with a
# card on switch lan0, exchange BYTES each way over TCP (guest/net-peer.c)
# with checksums compared across; then, with 10% loss set on b's link
# through the control socket, LOSS_BYTES each way still arrive whole; with
# the link down a connect times out, and after the link is up again one
# works. b's init waits on its console (smvm's stdin, a fifo here) for the
# host to have changed the link before each step. Then three VMs: while c
# floods the segment with broadcast UDP, a and b still exchange
# FLOOD_BYTES each way whole, and the suite prints their rate. Last, a VM
# with a card is snapshotted, and two clones of it restored in one process
# (their MACs apart by one) talk to each other over the switch. And a VM
# whose card has no settings gets an address from its NAT's DHCP, and one
# whose card is on a TAP the host made exchanges bytes with the host.
# Cost: about 90-150 s nested (two processes: two VMs with 50 MiB each way,
# 2 MiB under loss and a 5 s timeout; three VMs with a 15 s flood; a
# snapshot and two clones; one VM on DHCP and one on a TAP, about 10 s),
# each bounded by TEST_TIMEOUT (300 s). SMVM_NET_BYTES,
# SMVM_NET_LOSS_BYTES and SMVM_NET_FLOOD_BYTES set the sizes. Run through
# tools/kvm-run, like boot.sh.
#   [SMVM_NET_BYTES=N] [SMVM_NET_LOSS_BYTES=N] [SMVM_NET_FLOOD_BYTES=N] tests/e2e/net.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/env.sh" "$1"
limit=${TEST_TIMEOUT:-300}
bytes=${SMVM_NET_BYTES:-52428800}
lossy=${SMVM_NET_LOSS_BYTES:-2097152}
flooded=${SMVM_NET_FLOOD_BYTES:-8388608}
for n in "$bytes" "$lossy" "$flooded"; do
  [[ $n =~ ^[0-9]+$ && $n -ge 1024 ]] || { echo "net.sh: the sizes must be numbers of at least 1024" >&2; exit 1; }
done

# vm NAME MAC <<< SCRIPT: $work/NAME.toml, a guest with net-peer and one
# card (MAC) on lan0, its console in $work/NAME.out; its init mounts
# /proc, /sys and /dev, sets n and m to the sizes, then runs SCRIPT.
vm() {
  { echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'
    echo "n=$bytes m=$lossy f=$flooded"; cat; } > "$work/$1.sh"
  "$root/guest/mkinitramfs.sh" --init "$work/$1.sh" --exit-helper "$build/smvm-exit" \
    --add "$build/net-peer:/bin/net-peer" --add "$build/smvm-ready:/bin/smvm-ready" --out "$work/$1.cpio.gz"
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
cat "$work"/{a,b}.out >"$work/consoles" 2>/dev/null
again_after_reset "$rc" "$work/vm.err" "$work/consoles" && two_vms

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

# --- a flooding guest: the others still talk ---------------------------------
# c floods broadcast UDP for 15 s; b waits until its card has seen 3000
# frames (the flood is on), then exchanges with a.
vm fa 02:00:00:00:00:01 <<'INIT'
ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
net-peer serve 5000 $f; echo "serve status $?"
exec smvm-exit 0
INIT
vm fb 02:00:00:00:00:02 <<'INIT'
ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
for i in $(seq 600); do [ $(cat /sys/class/net/eth0/statistics/rx_packets) -gt 3000 ] && break; sleep 0.1; done
echo "flood seen: $(cat /sys/class/net/eth0/statistics/rx_packets) frames"
net-peer connect 10.0.0.1 5000 $f 60; echo "connect status $?"
echo "after: $(cat /sys/class/net/eth0/statistics/rx_packets) frames"
exec smvm-exit 0
INIT
vm fc 02:00:00:00:00:03 <<'INIT'
ip addr add 10.0.0.3/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
net-peer flood 10.0.0.255 9 15; echo "flood status $?"
exec smvm-exit 0
INIT
three_vms() {
  set +e
  rm -f "$work"/f{a,b,c}.out
  timeout -k 10 --preserve-status "$limit" "$smvm" --config "$work/fb.toml" --config "$work/fa.toml" \
    --config "$work/fc.toml" </dev/null >"$work/vm.out" 2>"$work/vm.err"
  rc=$?
  a=$(tr -d '\0' <"$work/fa.out" 2>/dev/null) b=$(tr -d '\0' <"$work/fb.out" 2>/dev/null)
  c=$(tr -d '\0' <"$work/fc.out" 2>/dev/null)
  out="a: $a"$'\n'"b: $b"$'\n'"c: $c"
  err=$(cat "$work/vm.err")
  set -e
}
three_vms
cat "$work"/f{a,b,c}.out >"$work/consoles" 2>/dev/null
again_after_reset "$rc" "$work/vm.err" "$work/consoles" && three_vms
x=$(sum "$b" sent "$flooded") y=$(sum "$a" received "$flooded")
x2=$(sum "$a" sent "$flooded") y2=$(sum "$b" received "$flooded")
check "while a third VM floods the switch, two others exchange $flooded bytes each way whole ($(grep -o 'exchanged in .*' <<<"$b"), $(grep -o 'flood: .*' <<<"$c"))" \
  '[[ $b == *"flood seen"* && -n $x && $x == "$y" && -n $x2 && $x2 == "$y2" && $b == *"connect status 0"* ]]'
check "the flooder was flooding all along, and all three exit 0" \
  '[[ $c == *"flood: "*"flood status 0"* && $rc == 0 ]]'

# --- a snapshot of a VM with a card: two clones of it talk ----------------------
# Restored, each clone's driver probes its card again (unbind, bind) to
# read the MAC it has now: clone 0's is the snapshot's (…:10), clone 1's
# one higher (…:11). Each takes 10.0.0.<last byte of its MAC>; clone 0
# serves, clone 1 connects. Exit 31: not the MAC expected; 32: no exchange.
vm s 02:00:00:00:00:10 <<'INIT'
ip link set eth0 up || exec smvm-exit 1
smvm-ready || exec smvm-exit 20
dev=$(basename "$(readlink /sys/class/net/eth0/device)")
echo "$dev" > /sys/bus/virtio/drivers/virtio_net/unbind
echo "$dev" > /sys/bus/virtio/drivers/virtio_net/bind
for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
mac=$(cat /sys/class/net/eth0/address); last=$((0x${mac##*:}))
ip addr add 10.0.0.$last/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
case $mac in
  02:00:00:00:00:10) net-peer serve 5000 1048576 || exec smvm-exit 32 ;;
  02:00:00:00:00:11) net-peer connect 10.0.0.16 5000 1048576 60 || exec smvm-exit 32 ;;
  *) exec smvm-exit 31 ;;
esac
exec smvm-exit 0
INIT
printf '[snapshot]\npath = "s.snap"\non_ready = "stop"\n' >>"$work/s.toml"
run "$smvm" --config "$work/s.toml"
check "a VM with a card is snapshotted" '[[ $rc == 0 && -f $work/s.snap && -f $work/s.snap.mem ]]'
TEST_TIMEOUT=$limit run "$smvm" restore --clones 2 --console-output none "$work/s.snap"
check "two clones of it restore with working cards, MACs apart, and talk over the switch" \
  '[[ $rc == 0 && $err == *"clone 0 exited 0"*"clone 1 exited 0"* ]]'

# --- a card with no settings: a NAT of its own, with DHCP -------------------------
vm d 02:00:00:00:00:30 <<'INIT'
ip link set eth0 up || exec smvm-exit 1
udhcpc -i eth0 -n -q -t 5 -s /bin/true 2>&1 | grep -o "lease of [0-9.]* obtained from [0-9.]*"
exec smvm-exit 0
INIT
sed -i '/^switch = "lan0"$/d' "$work/d.toml"
TEST_TIMEOUT=$limit run "$smvm" --config "$work/d.toml"
check "a card with no switch gets 10.0.2.15 from its NAT's DHCP" \
  '[[ $rc == 0 && "$(tr -d "\0" <"$work/d.out")" == *"lease of 10.0.2.15 obtained from 10.0.2.2"* ]]'

# --- a card on a TAP device of the host's ---------------------------------------
# The host (here: the L1) makes tap smvmtap0 at 10.1.0.1 and serves there;
# the guest, 10.1.0.2 behind the TAP, exchanges LOSS_BYTES each way with it.
vm t 02:00:00:00:00:20 <<'INIT'
ip addr add 10.1.0.2/24 dev eth0 && ip link set eth0 up || exec smvm-exit 1
net-peer connect 10.1.0.1 5100 $m 60; echo "tap connect status $?"
exec smvm-exit 0
INIT
sed -i 's/^switch = "lan0"$/tap = "smvmtap0"/' "$work/t.toml"
modprobe tun 2>/dev/null || true
ip link del smvmtap0 2>/dev/null || true
tap_made=no
ip tuntap add smvmtap0 mode tap && ip addr add 10.1.0.1/24 dev smvmtap0 && ip link set smvmtap0 up && tap_made=yes
check "the host makes a TAP device (ip tuntap)" '[[ $tap_made == yes ]]'
"$build/net-peer" serve 5100 "$lossy" >"$work/tap-host.out" 2>&1 &
host_peer=$!
TEST_TIMEOUT=$limit run "$smvm" --config "$work/t.toml"
timeout 30 tail --pid=$host_peer -f /dev/null || kill $host_peer 2>/dev/null || true
ip link del smvmtap0 2>/dev/null || true
t=$(tr -d '\0' <"$work/t.out" 2>/dev/null) host=$(cat "$work/tap-host.out")
x=$(sum "$t" sent "$lossy") y=$(sum "$host" received "$lossy")
x2=$(sum "$host" sent "$lossy") y2=$(sum "$t" received "$lossy")
check "a card on the host's TAP device exchanges $lossy bytes each way with the host whole" \
  '[[ $rc == 0 && -n $x && $x == "$y" && -n $x2 && $x2 == "$y2" && $t == *"tap connect status 0"* ]]'

finish
