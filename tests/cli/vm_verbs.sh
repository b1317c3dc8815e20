#!/usr/bin/env bash
# smvm exec, cp, ps, logs, stop and rm without KVM: a stand-in VM in a
# temporary runtime folder, whose "smvm process" is the guest agent's own
# code behind a Unix socket (tests/agent/agent_server.c), so the CLI talks
# to the real agent. Every error of these verbs, and what they do, except
# what needs a guest (tests/e2e/agent.sh). About 2 s.
#   tests/cli/vm_verbs.sh BUILD_DIR
set -uo pipefail
build=$(cd "$1" && pwd)
smvm=$build/smvm
source "$(dirname "$0")/../lib.sh"
export SMVM_RUNTIME_DIR=$work/runtime

# fake_vm NAME [detached]: a running stand-in VM; its pid in $fake_pid.
fake_vm() {
  mkdir -p "$SMVM_RUNTIME_DIR/$1"
  "$build/smvm-test-agent-server" "$SMVM_RUNTIME_DIR/$1/vsock.sock" >"$work/$1.ready" &
  fake_pid=$!
  for _ in $(seq 1 100); do [[ -s $work/$1.ready ]] && break; sleep 0.05; done
  echo "$fake_pid $(awk '{print $22}' /proc/$fake_pid/stat)" >"$SMVM_RUNTIME_DIR/$1/pid"
  printf '{"image":"test:1","command":["sleep","1000"],"created":%s,"detached":%s}\n' "$(date +%s)" \
    "$([[ ${2-} == detached ]] && echo true || echo false)" >"$SMVM_RUNTIME_DIR/$1/info.json"
}
fake_vm web detached
web_pid=$fake_pid
printf 'out line\n' >"$SMVM_RUNTIME_DIR/web/stdout.log"
printf 'err line\n' >"$SMVM_RUNTIME_DIR/web/stderr.log"

run "$smvm" ps
check "ps lists a running VM with its image and command" '[[ $rc == 0 && $out == *"web "*"test:1"*"\"sleep 1000\""*Up* ]]'
run "$smvm" ps -q
check "ps -q: names only" '[[ $rc == 0 && $out == web ]]'

run --stdin $'in\n' "$smvm" exec -i web sh -c 'cat; echo e >&2; exit 5'
check "exec -i relays stdin, stdout, stderr and the status" '[[ $rc == 5 && $out == in && $err == e ]]'
run "$smvm" exec -e A=b -w /tmp web sh -c 'echo $A; pwd'
check "exec -e and -w" '[[ $rc == 0 && $out == $'"'"'b\n/tmp'"'"' ]]'
run "$smvm" exec web /no/such/command
check "exec: a command that cannot run is 127, with why" '[[ $rc == 127 && $err == *"cannot run /no/such/command"* ]]'
run "$smvm" exec -w /no/such web true
check "exec: a missing working folder is 126, with why" '[[ $rc == 126 && $err == *"working folder /no/such"* ]]'
run "$smvm" exec web
check "exec without a command is refused" '[[ $rc == 125 && $err == *"no command"* ]]'
run "$smvm" exec -w relative web true
check "exec -w must be absolute" '[[ $rc == 125 && $err == *"absolute"* ]]'
run "$smvm" exec -e =x web true
check "exec -e needs NAME=value" '[[ $rc == 125 && $err == *"NAME=value"* ]]'
run "$smvm" exec nosuch true
check "exec: an unknown VM is named" '[[ $rc == 125 && $err == *"no VM named '"'"'nosuch'"'"'"* ]]'

printf 'copied\n' >"$work/file"
chmod 0751 "$work/file"
run "$smvm" cp "$work/file" "web:$work/in-guest"
check "cp into a VM keeps the mode" '[[ $rc == 0 && "$(cat "$work/in-guest")" == copied && $(stat -c %a "$work/in-guest") == 751 ]]'
mkdir "$work/into"
run "$smvm" cp "web:$work/in-guest" "$work/into"
check "cp out of a VM into a folder" '[[ $rc == 0 && "$(cat "$work/into/in-guest")" == copied ]]'
run "$smvm" cp "web:$work/in-guest" -
check "cp to - writes stdout" '[[ $rc == 0 && $out == copied ]]'
run --stdin "from stdin" "$smvm" cp - "web:$work/from-stdin"
check "cp from - reads stdin" '[[ $rc == 0 && "$(cat "$work/from-stdin")" == "from stdin" ]]'
run "$smvm" cp "$work/file" "$work/other"
check "cp with no VM side is refused" '[[ $rc == 125 && $err == *"exactly one of SRC and DST"* ]]'
run "$smvm" cp "web:/x" "web:/y"
check "cp with two VM sides is refused" '[[ $rc == 125 && $err == *"exactly one of SRC and DST"* ]]'
run "$smvm" cp "$work" "web:/tmp"
check "cp of a folder says it is not supported yet" '[[ $rc == 125 && $err == *"only a regular file"* ]]'
run "$smvm" cp "web:$work/none" "$work/none"
check "cp of a missing VM file names it, and leaves nothing" '[[ $rc == 125 && $err == *"$work/none"* && ! -e $work/none ]]'
run "$smvm" cp "$work/file" "nosuch:/tmp/x"
check "cp to an unknown VM is named" '[[ $rc == 125 && $err == *"no VM named"* ]]'

run "$smvm" logs web
check "logs prints the workload's stdout and stderr" '[[ $rc == 0 && $out == "out line" && $err == "err line" ]]'
run "$smvm" logs nosuch
check "logs: an unknown VM is named" '[[ $rc == 1 && $err == *"no VM named"* ]]'
fake_vm front
front_pid=$fake_pid
run "$smvm" logs front
check "logs of a foreground VM says where its output went" '[[ $rc == 1 && $err == *"runs in the foreground"* ]]'

run "$smvm" run --name 'bad name' image
check "run --name with a bad name is refused" '[[ $rc == 125 && $err == *"invalid VM name"* ]]'
run "$smvm" run -d --name web image
check "run -d with a name in use is refused" '[[ $rc == 125 && $err == *"is in use"* ]]'

run "$smvm" snapshot nosuch "$work/s"
check "snapshot: an unknown VM is named" '[[ $rc == 125 && $err == *"no VM named '"'"'nosuch'"'"'"* ]]'
run "$smvm" snapshot web "$work/s"
check "snapshot: a VM whose control socket does not answer says so" '[[ $rc == 125 && $err == *"control.sock: cannot connect"* ]]'
run "$smvm" restore --name 'bad name' "$work/none.snap"
check "restore --name with a bad name is refused" '[[ $rc == 125 && $err == *"invalid VM name"* ]]'
run "$smvm" restore -d --name web "$work/none.snap"
check "restore -d with a name in use is refused" '[[ $rc == 125 && $err == *"is in use"* ]]'
run "$smvm" restore -d --clones 3 --name fresh "$work/none.snap"
check "restore -d of a missing snapshot says why, and frees the names" \
  '[[ $rc == 125 && $err == *"fresh-0 did not start"*"none.snap"* && ! -e $SMVM_RUNTIME_DIR/fresh-0 && ! -e $SMVM_RUNTIME_DIR/fresh-2 ]]'

run "$smvm" rm web
check "rm of a running VM wants -f" '[[ $rc == 1 && $err == *"is running"* ]]'
run "$smvm" stop -t 1 web
check "stop ends the VM's process" '[[ $rc == 0 && $out == web ]] && ! kill -0 $web_pid 2>/dev/null'
run "$smvm" exec web true
check "exec on a stopped VM is refused" '[[ $rc == 125 && $err == *"is not running"* ]]'
run "$smvm" ps -a
check "ps -a lists it, no longer Up" '[[ $out == *"web "*Dead* ]]'
run "$smvm" ps
check "ps leaves it out" '[[ $out != *"web "* ]]'
run "$smvm" stop nosuch
check "stop: an unknown VM is named" '[[ $rc == 1 && $err == *"no VM named"* ]]'
run "$smvm" rm -f front
check "rm -f stops and forgets a running VM" '[[ $rc == 0 && ! -e $SMVM_RUNTIME_DIR/front ]] && ! kill -0 $front_pid 2>/dev/null'
run "$smvm" rm web nosuch
check "rm forgets what it can and names what it cannot" '[[ $rc == 1 && ! -e $SMVM_RUNTIME_DIR/web && $err == *"nosuch"* ]]'
finish
