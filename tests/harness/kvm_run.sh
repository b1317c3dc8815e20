#!/usr/bin/env bash
# tools/kvm-run's bounds, in its nested L1 guest (about 2-3 minutes: seven
# L1 boots). Skipped where /dev/kvm is usable and kvm-run runs directly.
#   tests/harness/kvm_run.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/lib.sh"
kvm_run=$root/tools/kvm-run
if "$root/tools/kvm-usable"; then echo "ok - skipped: /dev/kvm is usable, kvm-run runs commands directly"; exit 0; fi

TEST_TIMEOUT=400 run "$kvm_run" bash -c 'test -c /dev/kvm && echo to-out; echo to-err >&2; exit 3'
check "the command's status, stdout and stderr come back, with /dev/kvm in L1" \
  '[[ $rc == 3 && $out == to-out && $err == *to-err* ]]'

# A boot that cannot be ready in time stands for one that wedges early.
TEST_TIMEOUT=120 SMVM_KVM_READY=1 SMVM_KVM_RETRIES=1 run "$kvm_run" true
check "an L1 not ready in time is killed, said so, and booted again" \
  '[[ $rc == 125 && $err == *"did not report ready within 1 s"*"try 1 of 2"*"booting the L1 guest again"*"try 2 of 2"* ]]'

# Stopping L1's heartbeat (its init's background loop) stands for an L1
# whose CPUs stall mid-run: the command's own sleep would run for 10 minutes.
TEST_TIMEOUT=300 SMVM_KVM_HEARTBEAT=10 SMVM_KVM_RETRIES=0 run "$kvm_run" bash -c \
  'for p in /proc/[0-9]*; do [[ $(cat $p/comm) == init && $(cut -d" " -f4 $p/stat) == 1 ]] && kill -STOP ${p#/proc/}; done; sleep 600'
check "an L1 whose heartbeat stops is given up within the bound" \
  '[[ $rc == 125 && $err == *"heartbeat stopped for 10 s"* ]]'
# Only CPU 1's beat stopped stands for what was seen mid-suite: one L1 CPU
# stuck (RCU stalls on it) while the other ran on and kept beating.
TEST_TIMEOUT=300 SMVM_KVM_HEARTBEAT=10 SMVM_KVM_RETRIES=0 run "$kvm_run" bash -c \
  'for p in /proc/[0-9]*; do [[ $(cat $p/comm) == init && $(cut -d" " -f4 $p/stat) == 1 && $(grep Cpus_allowed_list: $p/status) == *$'"'"'\t1'"'"' ]] && kill -STOP ${p#/proc/}; done; sleep 600'
check "an L1 with one CPU's heartbeat stopped is given up, naming the CPU" \
  '[[ $rc == 125 && $err == *"heartbeat stopped for 10 s on CPU 1 ("* ]]'
# An L1 kernel that dies mid-command (a crash forced through sysrq here)
# is booted again, and the command finds the same SMVM_KVM_RUN_KEY.
marks=$(mktemp -d "$root/.kvm-run-test.XXXXXX")
TEST_TIMEOUT=300 SMVM_KVM_RETRIES=1 run "$kvm_run" bash -c \
  'f='"$marks"'/$SMVM_KVM_RUN_KEY; if [[ -e $f ]]; then echo second-try; else touch "$f"; echo c >/proc/sysrq-trigger; sleep 60; fi'
rm -rf "$marks"
check "an L1 that dies is booted again, and the command keeps its run key" \
  '[[ $rc == 0 && $out == second-try && $err == *"stopped without the command'"'"'s exit status (try 1 of 2)"*"booting the L1 guest again"* ]]'
finish
