#!/usr/bin/env bash
# The layers' rules that the build alone does not catch (ARCHITECTURE.md):
# hv/, devices/, config/ and common/ know nothing of CAF or the actors, and
# no actor touches KVM's exit record or calls ioctl: those live behind
# hv/vcpu_runner.hpp; the host includes nothing from guest/. Each rule broken prints the lines that break it.
#   tests/layers.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tests/lib.sh"
cd "$root"

run grep -rnE '#include <caf/|#include "actors/|#include "control/|#include "vmm/|#include "run/' hv devices config common network
check "hv/, devices/, config/, network/ and common/ include no CAF and no layer above them" '[[ $rc == 1 ]]'
run grep -rnE '#include "(hv|devices|config|image|snapshot)/' network
check "network/ (the switch's Ethernet and impairments) stands alone on common/" '[[ $rc == 1 ]]'
run grep -rnE '#include "config/' devices
check "devices/ includes nothing from config/ (config reads the device kinds, not the other way)" '[[ $rc == 1 ]]'
run grep -rnE '#include "devices/virtio/[a-z0-9_]+/' common hv config actors control vmm run image snapshot
check "no layer names a virtio device kind's folder: they iterate device_kinds()" '[[ $rc == 1 ]]'
run grep -rnE 'kvm_run|ioctl|linux/kvm\.h' actors control vmm run
check "no actor, control, builder or run file reads kvm_run or calls ioctl" '[[ $rc == 1 ]]'
run grep -rnE '#include "(vmm|run)/' actors control
check "the actors and the control socket include nothing from the builder (vmm/) or run/" '[[ $rc == 1 ]]'
run grep -rnE '#include "guest/' common hv devices config actors
check "the host's code includes nothing from guest/ (shared wire formats live in common/)" '[[ $rc == 1 ]]'
run grep -rnE '#include "(actors|control|vmm|run)/' image snapshot agent
check "image/, snapshot/ and agent/ include no actor, control or run header" '[[ $rc == 1 ]]'
run grep -rnE '#include <caf/|#include "(hv|devices)/' agent
check "agent/ (the guest agent's host side) includes no CAF, hv or device header" '[[ $rc == 1 ]]'
finish
