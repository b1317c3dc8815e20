#!/usr/bin/env bash
# Every end-to-end suite in one nested guest boot (tools/kvm-run boots it
# once and runs this): a suite failing does not stop the others.
#   tests/e2e/suite.sh BUILD_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
for suite in boot virtio; do
  echo "# $suite"
  "$here/$suite.sh" "$1" || status=1
done
exit $status
