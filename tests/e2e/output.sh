#!/usr/bin/env bash
# `smvm run` and `smvm exec` deliver every byte a workload or command wrote,
# and never pass a short stream as success (about 3 minutes nested). Checksums are taken inside
# the guest and compared on the host. Volumes scale with SMVM_OUTPUT_BYTES
# (default 250 000): small in CI, since under the nested TCG guest heavy
# virtio traffic resets smvm's guest within seconds to minutes (README, "KVM
# without /dev/kvm"), which is exit 125 here, no pass; 100000000 or more
# where KVM is real.
#   [SMVM_OUTPUT_BYTES=N] tests/e2e/output.sh BUILD_DIR
set -uo pipefail
source "$(dirname "$0")/env.sh"
use_image_store
sh_run=("$smvm" run -u 0 --entrypoint /bin/sh "$archive" -c)
export TEST_TIMEOUT=600
n=${SMVM_OUTPUT_BYTES:-250000}
[[ $n =~ ^[0-9]+$ && $n -ge 100000 ]] || { echo "output.sh: SMVM_OUTPUT_BYTES must be a number of at least 100000" >&2; exit 1; }

# Random bytes on stdout and on stderr at once; the guest's checksums come
# last on stderr, after the bytes they cover.
both="head -c $((2 * n)) /dev/urandom >/tmp/a; head -c $n /dev/urandom >/tmp/b
  cat /tmp/b >&2 & cat /tmp/a; wait
  echo \"sums \$(md5sum </tmp/a | cut -c1-32) \$(md5sum </tmp/b | cut -c1-32)\" >&2"
# piped CASE [STDERR]: runs the function CASE, whose smvm's status is $rc
# and stderr is in STDERR (default $work/err); once more if its guest reset
# before its init was up, or triple-faulted nested (lib.sh's rule for run(),
# counted alike).
piped() {
  set +e  # lib.sh's run() sets -e; these cases check statuses themselves
  "$1"
  again_after_reset "$rc" "${2:-$work/err}" && "$1"
}

# output_cases LABEL: every case through "${sh_run[@]}" (smvm run, or smvm
# exec into a running VM), each check named with LABEL.
output_cases() {
  local label=$1
  both_streams() { "${sh_run[@]}" "$both" >"$work/a" 2>"$work/b"; rc=$?; }
  piped both_streams "$work/b"
  # The sums line is 70 characters and a newline, after binary bytes.
  err=$(tail -c 71 "$work/b")
  out="sums $(md5sum <"$work/a" | cut -c1-32) $(head -c $n "$work/b" | md5sum | cut -c1-32) (got $(stat -c %s "$work/a") + $(stat -c %s "$work/b") bytes)"
  check "$label: $((2 * n)) random bytes on stdout and $n on stderr at once arrive whole" \
    '[[ $rc == 0 && "$err (got $((2 * n)) + $((n + 71)) bytes)" == "$out" ]]'

  zeros_to_pipe() { "${sh_run[@]}" "head -c $((4 * n)) /dev/zero" 2>"$work/err" | md5sum >"$work/sum"; rc=${PIPESTATUS[0]}; }
  piped zeros_to_pipe
  out=$(cat "$work/sum") err=$(cat "$work/err")
  check "$label: $((4 * n)) zero bytes through a pipe arrive whole" '[[ $rc == 0 && $out == "$(head -c $((4 * n)) /dev/zero | md5sum)" ]]'

  run "${sh_run[@]}" 'dd if=/dev/zero bs=1 count=20000 2>/dev/null; dd if=/dev/zero bs=1 count=10000 >&2 2>/dev/null'
  out="$(stat -c %s "$work/out") bytes" err="$(stat -c %s "$work/err") bytes"
  check "$label: 20 000 one-byte writes on stdout and 10 000 on stderr all arrive" \
    '[[ $rc == 0 && $out == "20000 bytes" && $err == "10000 bytes" ]]'

  run "${sh_run[@]}" 'echo abc | cat'
  check "$label: a pipeline's last child's output arrives" '[[ $rc == 0 && $out == abc ]]'

  run "${sh_run[@]}" 'sh -c "sleep 0.1; echo from-background" & sleep 0.3; exit 4'
  check "$label: a background child's output, written before the main process exits, arrives" \
    '[[ $rc == 4 && $out == from-background ]]'

  all_whole=1
  for i in 1 2 3 4 5; do
    run "${sh_run[@]}" 'head -c 200000 /dev/urandom; printf end; printf err-end >&2; exit 3'
    [[ $rc == 3 && $(stat -c %s "$work/out") == 200003 && $out == *end && $err == err-end ]] || all_whole=0
  done
  check "$label: output written in the last moment before exit 3 arrives, five runs in five" '[[ $all_whole == 1 ]]'

  # A reader that takes nothing for 8 s, longer than any deadline of smvm's.
  slow_reader() {
    "${sh_run[@]}" "head -c $((2 * n)) /dev/urandom >/tmp/a; cat /tmp/a; md5sum </tmp/a | cut -c1-32 >&2; exit 5" \
      2>"$work/err" | { sleep 8; md5sum | cut -c1-32; } >"$work/out"
    rc=${PIPESTATUS[0]}
  }
  piped slow_reader
  out=$(cat "$work/out") err=$(cat "$work/err")
  check "$label: a slow reader on smvm's stdout gets every byte, and the status" '[[ $rc == 5 && $out == "$err" ]]'

  run "${sh_run[@]}" "head -c $n /dev/zero; exit 6"
  rc_null=$rc
  to_null() { "${sh_run[@]}" "head -c $n /dev/zero; exit 6" >/dev/null 2>"$work/err"; rc=$?; }
  piped to_null
  check "$label: stdout on /dev/null: the status is the workload's" '[[ $rc == 6 && $rc_null == 6 ]]'

  closed_stdout() { "${sh_run[@]}" 'yes' 2>"$work/err" | head -c 10 >/dev/null; rc=${PIPESTATUS[0]}; }
  piped closed_stdout
  out= err=$(cat "$work/err")
  check "$label: a closed stdout is an error, not success, and stops the workload" \
    '[[ $rc == 125 && $err == *"$stdout_error"* ]]'
}

stdout_error="cannot write the workload's stdout: Broken pipe"
output_cases "smvm run"

run "${sh_run[@]}" 'echo before; reboot -f; sleep 10'
check "a guest that resets before its init reports is exit 125, with the kernel log's end" \
  '[[ $rc == 125 && $err == *"stopped before its init reported the workload'"'"'s status"*"kernel log"* ]]'

# The same rule through smvm exec: everything a command wrote before it
# ended arrives before its status, and a stdout smvm cannot write is 125.
export SMVM_RUNTIME_DIR=$work/runtime
run "$smvm" run -d --name output-vm --entrypoint /bin/sh "$archive" -c 'exec sleep 100000'
check "a VM for the exec cases is up" '[[ $rc == 0 && $out == output-vm ]]'
sh_run=("$smvm" exec -u 0 output-vm sh -c)
stdout_error="smvm exec: writing the command's stdout: Broken pipe"
[[ $rc == 0 ]] && output_cases "smvm exec"
"$smvm" rm -f output-vm >/dev/null 2>&1
finish
