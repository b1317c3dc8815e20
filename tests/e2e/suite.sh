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
for suite in boot virtio run output snapshot; do
  echo "# $suite"
  "$here/$suite.sh" "$1" || status=1
done
exit $status
