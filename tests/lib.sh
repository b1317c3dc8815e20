# Shared helpers for the shell test suites: run a command, capture its
# streams and status, and check them; print a TAP-like line per case and a
# closing "N passed, N failed" line.
passed=0 failed=0
out= err= rc=
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run [--stdin TEXT] CMD...: sets $out, $err, $rc.
run() {
  local input=""
  if [[ $1 == --stdin ]]; then input=$2; shift 2; fi
  set +e
  printf '%s' "$input" | timeout -k 10 --preserve-status "${TEST_TIMEOUT:-120}" "$@" >"$work/out" 2>"$work/err"
  rc=$?
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
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
