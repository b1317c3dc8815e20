# Shared helpers for the shell test suites: run a command, capture its
# streams and status, and check them; print a TAP-like line per case and a
# closing "N passed, N failed" line.
passed=0 failed=0 early_resets=0 nested_resets=0
reruns=()  # a suite's own counted reruns, for finish's line
out= err= rc=
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run [--stdin TEXT] [--resets] CMD...: sets $out, $err, $rc. --resets: the
# guest is meant to reset, so a reset is not run again.
run() {
  local input="" rerun=1
  if [[ $1 == --stdin ]]; then input=$2; shift 2; fi
  if [[ $1 == --resets ]]; then rerun=0; shift; fi
  set +e
  for attempt in 1 2; do
    printf '%s' "$input" | timeout -k 10 --preserve-status "${TEST_TIMEOUT:-120}" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    # A VM that reset before its init was up never ran the workload: the
    # nested guests' early resets (README, "KVM without /dev/kvm"). Such a
    # case runs once more, and the resets are counted in finish's line.
    [[ $attempt == 1 && $rerun == 1 ]] && again_after_reset "$rc" "$work/err" || break
  done
  set -e
  out=$(tr -d "\0" <"$work/out"); err=$(tr -d "\0" <"$work/err")  # binary output: NULs dropped, not warned of
}

# api SOCKET JSON: one control-socket request; prints the reply line (60 s at most:
# a control socket that stops answering fails the checks, not the L1 idle bound).
# socat, not python: a python start costs about 10 s in the nested guest.
api() { printf '%s\n' "$2" | socat -t 60 -T 60 - "UNIX-CONNECT:$1"; }

# again_after_reset STATUS FILE [CONSOLE]: the case's VM (its status, its
# stderr in FILE, its console in CONSOLE) reset before its init was up, or
# faulted under the nested KVM: counted and said, and true, so the caller
# runs the case once more.
again_after_reset() {
  if [[ $1 == 125 ]] && grep -aq "the guest stopped before its init was up" "$2"; then
    early_resets=$((early_resets + 1))
    echo "# the guest reset before its init was up; running the case again"
  elif nested_reset "${@:2}"; then
    count_nested_reset
  else
    return 1
  fi
}

# nested_reset FILE [CONSOLE]: FILE (a VM's stderr) says its guest
# triple-faulted, or CONSOLE (its console) that its kernel panicked on a
# double fault, and this is the nested KVM of tools/kvm-run, where
# sustained virtio traffic now and then resets guests that QEMU's run whole
# (README, "KVM without /dev/kvm"); seen both ways. On a real /dev/kvm
# either is a failure.
nested_reset() {
  [[ -n ${SMVM_KVM_NESTED-} ]] || return 1
  grep -aq "the guest reset the machine (triple fault)" "$1" ||
    { [[ -n ${2-} ]] && grep -aq "PANIC: double fault" "$2"; }
}

# count_nested_reset: a case whose guest triple-faulted runs again; say so
# and count it for finish's line.
count_nested_reset() {
  nested_resets=$((nested_resets + 1))
  echo "# the guest faulted under nested KVM (a triple fault or a double-fault panic); running the case again"
}

# check NAME 'CONDITION': the condition is evaluated, usually '[[ ... ]]'.
check() {
  local name=$1
  if eval "$2"; then
    echo "ok - $name"; passed=$((passed + 1))
  else
    echo "not ok - $name"; failed=$((failed + 1))
    echo "#   exit status: $rc"; echo "#   stdout: ${out:0:2000}" | sed '2,$s/^/#   /'; echo "#   stderr: ${err:0:2000}" | sed '2,$s/^/#   /'
  fi
}

finish() {
  echo "$passed passed, $failed failed$( ((early_resets == 0)) || echo ", $early_resets early guest resets run again")$(
    ((nested_resets == 0)) || echo ", $nested_resets nested guest faults run again")$(
    for r in "${reruns[@]}"; do echo -n ", $r"; done)"
  ((failed == 0))
}
