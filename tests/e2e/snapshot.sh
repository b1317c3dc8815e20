#!/usr/bin/env bash
# End-to-end tests of snapshot and restore on KVM: a counting guest
# snapshotted when it says it is ready and mid-run through the control
# socket, restored to count on from where it stopped with what it wrote to
# its disk; two vCPUs; ten clones of one snapshot in one process; and
# restores that must fail cleanly. Run through tools/kvm-run, like boot.sh.
#   tests/e2e/snapshot.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/env.sh" "$1"
export PATH=$PATH:/usr/sbin:/sbin

# initramfs NAME <<< SCRIPT: a test guest with smvm-exit and smvm-ready.
initramfs() {
  { echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev'; cat; } > "$work/$1.sh"
  "$root/guest/mkinitramfs.sh" --init "$work/$1.sh" --exit-helper "$build/smvm-exit" \
    --add "$build/smvm-ready:/bin/smvm-ready" --out "$work/$1.cpio.gz"
}
# vm NAME INITRD <<< TOML
vm() {
  { printf '[boot]\ninitrd = "%s.cpio.gz"\ncmdline = "quiet"\n' "$2"; cat; } > "$work/$1.toml"
}
# wait_for FILE TEXT: until FILE holds TEXT (up to 60 s).
wait_for() {
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

# --- the guest's ready call: snapshot, stop, restore, count on ------------
truncate -s 32M "$work/data.ext4"
mkfs.ext4 -q -F "$work/data.ext4"
initramfs ready <<'INIT'
mkdir -p /mnt
mount -t ext4 /dev/vda /mnt || exec smvm-exit 10
echo "written before the snapshot" > /mnt/marker
for i in 0 1 2; do echo "count $i"; done
smvm-ready || exec smvm-exit 20
# A restored VM goes on here.
for i in 3 4 5; do echo "count $i"; done
echo "disk says: $(cat /mnt/marker)"
umount /mnt
exec smvm-exit 0
INIT
vm ready ready <<EOF2
[[disk]]
path = "data.ext4"
[snapshot]
path = "$work/ready.snap"
on_ready = "stop"
EOF2
run "$smvm" --config "$work/ready.toml"
check "the guest's ready call takes the snapshot, then the VM stops with 0" \
  '[[ $rc == 0 && $out == *"count 2"* && $out != *"count 3"* && $err == *"snapshot written to $work/ready.snap"* && -s $work/ready.snap.mem ]]'
marker=$(debugfs -R "cat /marker" "$work/data.ext4" 2>/dev/null)
check "smvm-ready synced the guest's write to the disk image before the snapshot" '[[ $marker == "written before the snapshot" ]]'
run "$smvm" snapshot inspect "$work/ready.snap"
check "the snapshot holds the machine, VM, vCPU, device and memory sections" \
  '[[ $rc == 0 && $out == *machine* && $out == *vcpu.0* && $out == *virtio.0* && $out == *serial* && $out == *memory* ]]'
# The host changes nothing on the disk: the restored guest sees its own write.
run "$smvm" restore "$work/ready.snap"
check "the restored VM counts on from where it stopped, and exits 0" \
  '[[ $rc == 0 && $out == *"count 3"*"count 5"* && $out != *"count 0"* ]]'
check "what the guest wrote to its disk before the snapshot is there" '[[ $out == *"disk says: written before the snapshot"* ]]'
run "$smvm" restore "$work/ready.snap"
check "a snapshot restores again: the same run a second time" '[[ $rc == 0 && $out == *"count 5"* ]]'

# --- mid-run through the control socket, two vCPUs ------------------------
initramfs counter <<'INIT'
echo "cpus $(grep -c ^processor /proc/cpuinfo)"
i=0
while [ $i -lt 100000 ]; do echo "tick $i"; i=$((i + 1)); sleep 0.05; done
exec smvm-exit 3
INIT
vm counter counter <<'EOF2'
[machine]
vcpus = 2
EOF2
# whole_lines FILE: FILE without a last line that has no newline yet;
# cut_line FILE: that line, or nothing.
ends_in_newline() { [[ ! -s $1 || $(tail -c 1 "$1" | od -An -tx1) == *0a* ]]; }
whole_lines() { if ends_in_newline "$1"; then cat "$1"; else sed '$d' "$1"; fi; }
cut_line() { ends_in_newline "$1" || tail -n 1 "$1"; }
# mid_run: runs the counter VM through status, pause, snapshot, a bad
# action, resume and stop; leaves the replies and its status for the checks.
mid_run() {
  rm -f "$work/mid.snap"
  "$smvm" --config "$work/counter.toml" --api-sock "$work/api.sock" </dev/null >"$work/counter.out" 2>"$work/counter.err" &
  counter_pid=$!
  wait_for "$work/counter.out" "tick 20" || true
  status_reply=$(api "$work/api.sock" '{"action": "status"}' || true)
  pause_reply=$(api "$work/api.sock" '{"action": "pause"}' || true)
  sleep 0.3
  before=$(wc -c < "$work/counter.out")
  sleep 0.5
  after=$(wc -c < "$work/counter.out")
  snap_reply=$(api "$work/api.sock" "{\"action\": \"snapshot\", \"path\": \"$work/mid.snap\"}" || true)
  # The pause may cut a line short ("tick 2" of "tick 29"): the last tick
  # is the last whole line's, and the restored guest prints the rest.
  cp "$work/counter.out" "$work/at-snapshot.out"
  last=$(whole_lines "$work/at-snapshot.out" | grep -o '^tick [0-9]*' | tail -n 1 | cut -d' ' -f2)
  paused_reply=$(api "$work/api.sock" '{"action": "status"}' || true)
  bad_reply=$(api "$work/api.sock" '{"action": "fly"}' || true)
  resume_reply=$(api "$work/api.sock" '{"action": "resume"}' || true)
  wait_for "$work/counter.out" "tick $((last + 5))" || true
  stop_reply=$(api "$work/api.sock" '{"action": "stop"}' 2>&1 || true)
  # Bounded: a VM that did not take the stop is killed after 30 s, not waited for.
  for _ in $(seq 300); do kill -0 $counter_pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $counter_pid 2>/dev/null && echo "# the counter VM did not stop within 30 s; killed it"
  rc=0; wait $counter_pid || rc=$?
  out=$(cat "$work/counter.out"); err=$(cat "$work/counter.err")
}
mid_run
if nested_reset "$work/counter.err"; then
  count_nested_reset
  mid_run
fi
out=$(tail -n 20 <<<"$out")  # the end says more than the start, should a check fail
check "status says running" '[[ $status_reply == *"\"state\":\"running\""* ]]'
check "pause stops the guest: no output while paused" '[[ $pause_reply == *"\"ok\":true"* && $before == "$after" ]]'
check "a snapshot of a paused VM is written and leaves it paused" \
  '[[ $snap_reply == *"\"ok\":true"* && -s $work/mid.snap && $paused_reply == *paused* ]]'
check "an unknown action gets an error naming it" '[[ $bad_reply == *"\"ok\":false"* && $bad_reply == *"unknown action \\\"fly\\\""* ]]'
check "resume lets the guest go on" '[[ $resume_reply == *"\"ok\":true"* ]] && grep -q "tick $((last + 5))" "$work/counter.out"'
check "stop through the control socket ends the VM with 0" \
  '[[ $stop_reply == *"\"ok\":true"* && $rc == 0 && ! -e $work/api.sock ]]'
check "the guest saw two vCPUs" 'grep -q "cpus 2" "$work/counter.out"'
# Restored, the guest goes on from the last tick before the pause.
"$smvm" restore --api-sock "$work/api2.sock" "$work/mid.snap" </dev/null >"$work/restored.out" 2>"$work/restored.err" &
restored_pid=$!
wait_for "$work/restored.out" "tick $((last + 3))" || true
api "$work/api2.sock" '{"action": "stop"}' >/dev/null || true
wait $restored_pid; rc=$?
out=$(cat "$work/restored.out"); err=$(cat "$work/restored.err")
first=$(grep -o 'tick [0-9]*' <<<"$(cut_line "$work/at-snapshot.out")$out" | head -n 1 | cut -d' ' -f2)
check "the restored 2-vCPU VM counts on from the tick where it was paused" \
  '[[ $rc == 0 && -n $first && -n $last && ( $first == "$last" || $first == $((last + 1)) ) && $out != *"cpus 2"* ]]'

# --- ten clones of one snapshot --------------------------------------------
initramfs clone <<'INIT'
echo "before"
smvm-ready || exec smvm-exit 20
echo "a clone runs"
exec smvm-exit 0
INIT
vm clone clone <<EOF2
[machine]
memory_mib = 128
[snapshot]
path = "$work/clone.snap"
EOF2
run "$smvm" --config "$work/clone.toml"
check "the clone guest is snapshotted" '[[ $rc == 0 && -s $work/clone.snap ]]'
run "$smvm" restore --clones 10 "$work/clone.snap"
# Each clone's 0 comes from the smvm-exit after smvm-ready returned in it.
# (Their console lines share smvm's stdout, byte by byte.)
clones_ok=$(grep -c "^smvm: clone [0-9] exited 0$" <<<"$err" || true)
check "ten clones from one snapshot all run and exit 0" '[[ $rc == 0 && $clones_ok == 10 ]]'

# --- restores that must fail cleanly ---------------------------------------
run "$smvm" restore --clones 2 "$work/ready.snap"
check "clones of a VM with a writable disk are refused" '[[ $rc == 125 && $err == *"is writable"* ]]'
cp "$work/clone.snap" "$work/nomem.snap"
run "$smvm" restore "$work/nomem.snap"
check "a snapshot without its memory file names the file" '[[ $rc == 125 && $err == *"nomem.snap.mem"* ]]'
truncate -s 4096 "$work/short.mem"; cp "$work/clone.snap" "$work/short.snap"; mv "$work/short.mem" "$work/short.snap.mem"
run "$smvm" restore "$work/short.snap"
check "a truncated memory file is refused" '[[ $rc == 125 && $err == *"is not a regular file of"* ]]'
finish
