#!/usr/bin/env bash
# End-to-end guest agent on KVM, as a Docker user drives it: run -d, ps,
# exec (stdin, stdout, stderr, status, -e -w -u, -t, 20 at once), cp of
# 20 MB both ways with checksums from inside the guest, logs, stop, rm; a
# foreground run that exec reaches; the library's VM handle attached (exec,
# files, a TCP stream to a server in the guest) and started on its own; a
# snapshot with a vsock connection open, restored (the guest sees the
# reset, a new exec works) and as ten clones each answering an exec; two
# VMs in one process, one flooding a host reader that never reads while the
# other answers execs; a vm.toml VM booted by the library. Cost: six VM
# boots, twelve restores and 40 MB through vsock, about 4 minutes nested.
#   tests/e2e/agent.sh BUILD_DIR
set -uo pipefail
source "$(dirname "$0")/env.sh"
use_image_store
export SMVM_RUNTIME_DIR=$work/runtime
shell=(--entrypoint /bin/sh)
vm=agent-e2e  # not $vm: check() has a local of that name
# The workload: an echo server on 127.0.0.1:7000 (the library's connect
# case), a line on each stream (logs), then a sleep that SIGTERM ends.
workload='busybox nc -ll -p 7000 -e /bin/cat & echo started; echo to-stderr >&2; exec sleep 100000'

run "$smvm" run -d --name $vm "${shell[@]}" "$archive" -c "$workload"
check "run -d prints the VM's name once its agent answers" '[[ $rc == 0 && $out == "$vm" ]]'
[[ $rc == 0 ]] || { echo "# no VM: the other cases cannot run"; finish; exit 1; }

run "$smvm" ps
check "ps lists it, Up" '[[ $rc == 0 && $out == *"$vm "*Up* ]]'

run "$smvm" run -d --name $vm "$archive"
check "a name in use is a clear error" '[[ $rc == 125 && $err == *"is in use"* ]]'

run --stdin $'one\ntwo\n' "$smvm" exec -i $vm sh -c 'cat; echo err-line >&2; exit 3'
check "exec -i: stdin in, stdout and stderr apart, exit 3 passes through" \
  '[[ $rc == 3 && $out == $'"'"'one\ntwo'"'"' && $err == err-line ]]'

run "$smvm" exec -e X=1 -w /tmp -u 1000 $vm sh -c 'echo $X; pwd; id -u; cat; echo end'
check "exec -e, -w, -u; stdin is empty without -i" '[[ $rc == 0 && $out == $'"'"'1\n/tmp\n1000\nend'"'"' ]]'

run "$smvm" exec $vm no-such-command
check "exec of a missing command: 127, and why" '[[ $rc == 127 && $err == *"cannot run no-such-command"* ]]'

run "$smvm" exec -t $vm sh -c 'tty; echo out; echo err >&2'
check "exec -t runs it on a terminal (stderr there too)" '[[ $rc == 0 && $out == /dev/pts/*out*err* ]]'

head -c 20000000 /dev/urandom >"$work/big"
sum=$(md5sum <"$work/big" | cut -d' ' -f1)
run "$smvm" cp "$work/big" "$vm:/tmp/big"
check "cp of 20 MB into the VM" '[[ $rc == 0 ]]'
run "$smvm" exec $vm md5sum /tmp/big
check "the guest's checksum of it is the host's" '[[ $rc == 0 && $out == "$sum  /tmp/big" ]]'
run "$smvm" exec $vm sh -c 'cp /tmp/big /tmp/big2 && echo x >>/tmp/big2'
run "$smvm" cp "$vm:/tmp/big2" "$work/"
check "cp out of the VM, into a folder" \
  '[[ $rc == 0 && "$(head -c 20000000 "$work/big2" | md5sum | cut -d" " -f1)" == "$sum" && $(stat -c %s "$work/big2") == 20000002 ]]'
run "$smvm" cp "$vm:/no/such/file" "$work/none"
check "cp of a missing file names it" '[[ $rc == 125 && $err == *"/no/such/file"* && ! -e $work/none ]]'

pids=()
for i in $(seq 1 20); do
  timeout -k 5 120 "$smvm" exec $vm sh -c "echo exec-$i; exit $((i % 7))" >"$work/par.$i" 2>&1 &
  pids+=($!)
done
good=0
for i in $(seq 1 20); do
  s=0
  wait "${pids[i - 1]}" || s=$?  # run() leaves errexit on
  [[ $s == $((i % 7)) && "$(cat "$work/par.$i")" == "exec-$i" ]] && good=$((good + 1))
done
check "20 execs at once: each its own output and status ($good of 20)" '[[ $good == 20 ]]'

run "$build/smvm-test-vm-api" attach $vm 7000
check "the library's VM handle: attach, exec, files, connect to a guest server" '[[ $rc == 0 ]]'
[[ $rc == 0 ]] || echo "$out" | sed 's/^/#   /'

# A snapshot while a vsock connection is open (an exec waiting on stdin):
# the restored guest drops it (TRANSPORT_RESET: the exec's session sees its
# connection end and hangs up its command) and its agent takes new ones.
mkfifo "$work/hold"
"$smvm" exec -i $vm sh -c 'trap "echo hup >/tmp/reset-seen" HUP; cat >/dev/null; echo eof >>/tmp/reset-seen' \
  <"$work/hold" >"$work/held.out" 2>&1 &
held=$!
exec 3>"$work/hold"
sleep 1
run "$smvm" snapshot $vm "$work/snap"
check "snapshot of the running VM, a vsock connection open" '[[ $rc == 0 && -s $work/snap && -s $work/snap.mem ]]'
run "$smvm" restore -d --name restored "$work/snap"
check "restore -d prints the restored VM's name" '[[ $rc == 0 && $out == restored ]]'
seen=
for _ in $(seq 1 100); do
  seen=$("$smvm" exec restored cat /tmp/reset-seen 2>/dev/null) && [[ -n $seen ]] && break
  sleep 0.2
done
check "the restored guest saw its open connection reset ('$seen')" '[[ $seen == hup* ]]'
run "$smvm" exec restored sh -c 'echo restored-exec; exit 6'
check "a new exec in the restored VM" '[[ $rc == 6 && $out == restored-exec ]]'
# A server on the host's loopback, for the restored VMs' new NATs.
mkdir -p "$work/www" && echo "page for restored VMs" >"$work/www/page.txt"
web_port=$((20000 + RANDOM % 20000))
busybox httpd -f -p "127.0.0.1:$web_port" -h "$work/www" 3>&- &  # not holding the fifo open
web_pid=$!
run "$smvm" exec restored wget -q -O - "http://10.0.2.2:$web_port/page.txt"
check "the restored VM reaches the host through its new NAT" '[[ $rc == 0 && $out == "page for restored VMs" ]]'
exec 3>&-
timeout 60 tail --pid=$held -f /dev/null || kill $held  # its stdin ended: it ends
check "the snapshotted VM's own connection went on to its end" '[[ "$("$smvm" exec $vm cat /tmp/reset-seen)" == eof ]]'
run "$smvm" stop -t 2 restored
run "$smvm" rm restored
check "the restored VM stops and goes" '[[ $rc == 0 && "$("$smvm" ps -a -q)" != *restored* ]]'

run "$build/smvm-test-vm-api" restore "$work/snap"
check "the library's VM handle: restore a snapshot, exec and files, stop it" '[[ $rc == 0 ]]'
[[ $rc == 0 ]] || echo "$out$err" | sed 's/^/#   /'

run "$smvm" restore -d --clones 10 --name clone "$work/snap"
check "restore -d --clones 10 prints ten names" '[[ $rc == 0 && $(echo "$out" | wc -l) == 10 && $out == clone-0*clone-9 ]]'
good=0
for i in $(seq 0 9); do
  [[ "$(timeout 120 "$smvm" exec clone-$i sh -c "echo clone-$i" 2>&1)" == clone-$i ]] && good=$((good + 1))
done
check "each of ten clones answers an exec on its own socket ($good of 10)" '[[ $good == 10 ]]'
run "$smvm" exec clone-7 wget -q -O - "http://10.0.2.2:$web_port/page.txt"
check "a clone reaches the host through a NAT of its own" '[[ $rc == 0 && $out == "page for restored VMs" ]]'
kill $web_pid 2>/dev/null; wait $web_pid 2>/dev/null || true  # killed: 143
run "$smvm" rm -f $(seq -f 'clone-%g' 0 9)
check "rm -f stops the clones and forgets them" '[[ $rc == 0 && "$("$smvm" ps -a -q)" != *clone* ]]'

run "$smvm" logs $vm
check "logs: the workload's stdout and stderr" '[[ $rc == 0 && $out == started && $err == to-stderr ]]'

run "$smvm" stop -t 5 $vm
check "stop: SIGTERM ends the workload, and the VM" '[[ $rc == 0 && $out == "$vm" ]]'
run "$smvm" ps -a
check "ps -a shows it exited by SIGTERM" '[[ $out == *"$vm "*"Exited (143)"* ]]'
run "$smvm" exec $vm true
check "exec on a stopped VM is a clear error" '[[ $rc == 125 && $err == *"is not running"* ]]'
run "$smvm" rm $vm
check "rm forgets it" '[[ $rc == 0 && "$("$smvm" ps -a -q)" != *"$vm"* ]]'

# A foreground run is reachable by name too, and forgotten when it ends.
timeout -k 5 "${TEST_TIMEOUT:-120}" "$smvm" run --name fg "${shell[@]}" "$archive" -c 'echo fg-started; sleep 100000' \
  >"$work/fg.out" 2>&1 &
fg=$!
for _ in $(seq 1 600); do
  "$smvm" exec fg true 2>/dev/null && break
  kill -0 $fg 2>/dev/null || break
  sleep 0.2
done
run "$smvm" exec fg echo from-exec
check "exec reaches a foreground run by its --name" '[[ $rc == 0 && $out == from-exec ]]'
kill -TERM $fg
wait $fg || true
check "its output stayed on its own stdout; it is forgotten once it ends" \
  '[[ "$(cat "$work/fg.out")" == fg-started && "$("$smvm" ps -a -q)" != *fg* ]]'

run "$build/smvm-test-vm-api" flood "$archive"
check "a VM flooding a host reader that never reads leaves another VM of the process answering, memory bounded" \
  '[[ $rc == 0 ]]'
echo "$out" | sed 's/^/#   /'

# A vm.toml VM whose guest runs the agent alone (smvm-init agent).
printf 'mount -t devtmpfs dev /dev\nmount -t proc proc /proc\n/bin/smvm-agent agent &\nexec sleep 100000\n' >"$work/agent-init.sh"
"$root/guest/mkinitramfs.sh" --init "$work/agent-init.sh" --exit-helper "$build/smvm-exit" --out "$work/agent.cpio.gz" \
  --add "$build/guest/smvm-init:/bin/smvm-agent"
printf '[boot]\ninitrd = "agent.cpio.gz"\ncmdline = "quiet"\n[console]\ninput = "none"\noutput = "none"\n[vsock]\ncid = 3\nuds_path = "agent.sock"\n' \
  >"$work/agent.toml"
run "$build/smvm-test-vm-api" boot "$work/agent.toml"
check "the library's VM handle: boot a vm.toml, exec and files, attach by name, stop it" '[[ $rc == 0 ]]'
[[ $rc == 0 ]] || echo "$out$err" | sed 's/^/#   /'

run "$build/smvm-test-vm-api" start "$archive"
check "the library's VM handle: start a VM, exec and files, stop it" '[[ $rc == 0 ]]'
[[ $rc == 0 ]] || echo "$out$err" | sed 's/^/#   /'
finish
