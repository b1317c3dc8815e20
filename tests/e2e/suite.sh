#!/usr/bin/env bash
# Every end-to-end suite in one nested guest boot (tools/kvm-run boots it
# once and runs this): a suite failing does not stop the others.
#   tests/e2e/suite.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
# Known issue, under investigation: in a freshly booted nested L1 the first
# VM has sometimes stalled in early boot (3 times in about 80 runs, never
# with SMVM_TRACE_EXITS=1). One warm-up boot, not counted, goes first.
timeout -k 5 60 "$1/smvm" --config "$here/../../examples/hello.toml" </dev/null >/dev/null 2>&1 || true
# Under tools/kvm-run, an L1 that dies mid-run is booted again and this
# script runs again: the suites that already ended are not run twice.
progress=
if [[ -n ${SMVM_KVM_RUN_KEY-} ]]; then
  mkdir -p "$1/e2e-progress"
  progress=$1/e2e-progress/$SMVM_KVM_RUN_KEY
fi
for suite in boot virtio vsock net agent run output snapshot; do
  if [[ -n $progress ]] && ended=$(grep "^$suite " "$progress" 2>/dev/null); then
    echo "# $suite: ended in an earlier try of this kvm-run, exit status ${ended#* }"
    [[ ${ended#* } == 0 ]] || status=1
    continue
  fi
  echo "# $suite"
  "$here/$suite.sh" "$1"
  rc=$?
  ((rc == 0)) || status=1
  [[ -n $progress ]] && echo "$suite $rc" >>"$progress"
done
[[ -n $progress ]] && rm -f "$progress"
exit $status
