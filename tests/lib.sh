# Shared helpers for the shell test suites: run a command, capture its
# streams and status, and check them; print a TAP-like line per case and a
# closing "N passed, N failed" line.
passed=0 failed=0 early_resets=0
out= err= rc=
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run [--stdin TEXT] CMD...: sets $out, $err, $rc.
run() {
  local input=""
  if [[ $1 == --stdin ]]; then input=$2; shift 2; fi
  set +e
  for attempt in 1 2; do
    printf '%s' "$input" | timeout -k 10 --preserve-status "${TEST_TIMEOUT:-120}" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    # A VM that reset before its init was up never ran the workload: the
    # nested guests' early resets (README, "KVM without /dev/kvm"). Such a
    # case runs once more, and the resets are counted in finish's line.
    [[ $attempt == 1 && $rc == 125 ]] && grep -q "the guest stopped before its init was up" "$work/err" || break
    early_resets=$((early_resets + 1))
    echo "# the guest reset before its init was up; running the case again"
  done
  set -e
  out=$(tr -d "\0" <"$work/out"); err=$(tr -d "\0" <"$work/err")  # binary output: NULs dropped, not warned of
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
  echo "$passed passed, $failed failed$( ((early_resets == 0)) || echo ", $early_resets early guest resets run again")"
  ((failed == 0))
}
