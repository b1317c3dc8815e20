#!/usr/bin/env bash
# Every CLI and config error of `smvm` gives a clear message and exit 125.
# Needs no KVM: these all fail before a VM is created.
#   tests/cli/errors.sh BUILD_DIR
set -euo pipefail
smvm=$(cd "$1" && pwd)/smvm
source "$(dirname "$0")/../lib.sh"

printf 'kernel' > "$work/bzImage"
printf 'this is not a kernel\n%.0s' {1..200} > "$work/notakernel"
toml() { printf '%s\n' "$@" > "$work/vm.toml"; }

run "$smvm" --version
check "--version prints the version" '[[ $rc == 0 && $out == "smvm "* ]]'

run "$smvm" --help
check "--help lists --config" '[[ $rc == 0 && $out == *"--config"* ]]'

run "$smvm"
check "no arguments: says what to give" '[[ $rc == 125 && $err == *"nothing to run: give --config FILE"* ]]'

run "$smvm" --bogus
check "an unknown option is refused" '[[ $rc == 125 && $err == *"--bogus"* ]]'

run "$smvm" --config "$work/missing.toml"
check "a missing vm.toml is named" '[[ $rc == 125 && $err == *"cannot read $work/missing.toml"* ]]'

toml '[machine]' 'vcpus = 1' 'colour = "blue"' '[boot]' 'kernel = "bzImage"'
run "$smvm" --config "$work/vm.toml"
check "an unknown key is refused with its line" '[[ $rc == 125 && $err == *"vm.toml:3: unknown key machine.colour"* ]]'

toml '[machine]' 'vcpus = 0' '[boot]' 'kernel = "bzImage"'
run "$smvm" --config "$work/vm.toml"
check "vcpus = 0 is refused" '[[ $rc == 125 && $err == *"vm.toml:2: machine.vcpus must be at least 1, got 0"* ]]'

toml '[machine]' 'vcpus = 255' '[boot]' 'kernel = "bzImage"'
run "$smvm" --config "$work/vm.toml"
check "more vCPUs than the MP table holds is refused" '[[ $rc == 125 && $err == *"vm.toml:2: machine.vcpus must be at most 254, got 255"* ]]'

toml '[boot]' 'kernel = "no-such-kernel"'
run "$smvm" --config "$work/vm.toml"
check "a missing kernel is named" '[[ $rc == 125 && $err == *"vm.toml:2: boot.kernel: $work/no-such-kernel does not exist"* ]]'

toml '[boot]' 'kernel = "notakernel"'
run "$smvm" --config "$work/vm.toml"
check "a file that is not a bzImage is refused" '[[ $rc == 125 && $err == *"vm.toml:2: boot.kernel: "*"not a bzImage"* ]]'

toml '[boot]' 'kernel = "bzImage"' 'initrd = "gone.img"'
run "$smvm" --config "$work/vm.toml"
check "a missing initrd is named" '[[ $rc == 125 && $err == *"vm.toml:3: boot.initrd: $work/gone.img does not exist"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[disk]]' 'path = "no-such-disk.img"'
run "$smvm" --config "$work/vm.toml"
check "a missing disk image is named with its line" \
  '[[ $rc == 125 && $err == *"vm.toml:4: disk[0].path: $work/no-such-disk.img does not exist"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[vsock]' 'cid = 2' 'uds_path = "v.sock"'
run "$smvm" --config "$work/vm.toml"
check "a vsock CID the host owns is refused with its line" \
  '[[ $rc == 125 && $err == *"vm.toml:4: vsock.cid: must be 3 to 4294967294, got 2"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[vsock]' 'cid = 3' 'uds_path = "no/such/folder/v.sock"'
run "$smvm" --config "$work/vm.toml"
check "a vsock socket in a missing folder is named" \
  '[[ $rc == 125 && $err == *"vm.toml:5: vsock.uds_path: the folder of $work/no/such/folder/v.sock does not exist"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[vsock]' 'uds_path = "v.sock"'
run "$smvm" --config "$work/vm.toml"
check "vsock without a cid says what it is" \
  '[[ $rc == 125 && $err == *"vsock has no cid (the guest'"'"'s context ID, 3 or more)"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'switch = "lan0"' 'mac = "03:00:00:00:00:01"'
run "$smvm" --config "$work/vm.toml"
check "a multicast MAC for a card is refused with its line" \
  '[[ $rc == 125 && $err == *"vm.toml:5: net[0].mac: 03:00:00:00:00:01 is a multicast address"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'switch = "lan0"' 'mac = "02:00:00:00:01"'
run "$smvm" --config "$work/vm.toml"
check "a MAC that is not one is refused" \
  '[[ $rc == 125 && $err == *"net[0].mac: \"02:00:00:00:01\" is not a MAC address like 02:00:00:00:00:01"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'mode = "switch"'
run "$smvm" --config "$work/vm.toml"
check "a card in mode switch without a switch says what to give" \
  '[[ $rc == 125 && $err == *"vm.toml:3: net[0]: switch: a card in mode \"switch\" names the switch it plugs into"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'mode = "slirp"' 'switch = "lan0"'
run "$smvm" --config "$work/vm.toml"
check "a slirp card that names a switch is refused" \
  '[[ $rc == 125 && $err == *"vm.toml:5: net[0].switch: a card in mode \"slirp\" plugs into no switch"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'switch = "lan0"' 'tap = "tap0"'
run "$smvm" --config "$work/vm.toml"
check "a card with both a switch and a TAP is refused" \
  '[[ $rc == 125 && $err == *"vm.toml:5: net[0].tap: a card in mode \"switch\" plugs into no tap"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'mode = "tap"'
run "$smvm" --config "$work/vm.toml"
check "a card in mode tap without a TAP says what to give" \
  '[[ $rc == 125 && $err == *"net[0]: tap: a card in mode \"tap\" names the tap it plugs into, tap = \"tap0\""* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'tap = "a-tap-name-too-long"'
run "$smvm" --config "$work/vm.toml"
check "a TAP name longer than an interface name is refused" \
  '[[ $rc == 125 && $err == *"vm.toml:4: net[0].tap: \"a-tap-name-too-long\" is not a network interface name"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'switch = "lan0"' 'publish = ["8080:80"]'
run "$smvm" --config "$work/vm.toml"
check "a card on a switch cannot publish ports" \
  '[[ $rc == 125 && $err == *"vm.toml:5: net[0].publish: only a card in mode \"slirp\" publishes ports"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'publish = ["8080:80", "99999:80"]'
run "$smvm" --config "$work/vm.toml"
check "a published port out of range is named with its line" \
  '[[ $rc == 125 && $err == *"vm.toml:4: net[0].publish: \"99999:80\": the host port \"99999\" is not from 1 to 65535"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'publish = [8080]'
run "$smvm" --config "$work/vm.toml"
check "publish that is not strings is refused" \
  '[[ $rc == 125 && $err == *"vm.toml:4: net[0].publish must be a string or an array of strings"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'switch = "lan 0"'
run "$smvm" --config "$work/vm.toml"
check "a switch name with a space is refused" '[[ $rc == 125 && $err == *"\"lan 0\" is not a switch name"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[[net]]' 'switch = "lan0"' 'mode = "bridge"'
run "$smvm" --config "$work/vm.toml"
check "a network mode smvm has not is refused" \
  '[[ $rc == 125 && $err == *"vm.toml:5: net[0].mode: \"bridge\" is not a network mode smvm has"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[net]' 'switch = "lan0"'
run "$smvm" --config "$work/vm.toml"
check "[net] instead of [[net]] says how to write it" '[[ $rc == 125 && $err == *"[[net]]"* ]]'

toml '[boot]' 'kernel = "bzImage"'
run "$smvm" --config "$work/vm.toml" --config "$work/missing.toml"
check "a missing vm.toml among several is named" '[[ $rc == 125 && $err == *"cannot read $work/missing.toml"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[disk]' 'path = "disk.img"'
run "$smvm" --config "$work/vm.toml"
check "[disk] instead of [[disk]] says how to write it" '[[ $rc == 125 && $err == *"write each disk as a [[disk]] section"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[console]' 'device = "vga"'
run "$smvm" --config "$work/vm.toml"
check "an unknown console device is refused" '[[ $rc == 125 && $err == *"vm.toml:4: console.device must be \"serial\" or \"virtio\""* ]]'

toml '[boot' 'kernel = "bzImage"'
run "$smvm" --config "$work/vm.toml"
check "a TOML syntax error gives its line" '[[ $rc == 125 && $err == *"vm.toml:1: "* ]]'

# smvm run, pull, images, rmi: errors before any VM, on an empty store.
export SMVM_CACHE=$work/cache
run "$smvm" run
check "run without an image says so" '[[ $rc == 125 && $err == *"image is required"* ]]'

run "$smvm" run --memory 12x busybox
check "a bad --memory is named" '[[ $rc == 125 && $err == *"--memory 12x: expected a size such as 512m or 2g"* ]]'

run "$smvm" run --memory 2000000g busybox
check "--memory above 1 TiB is refused" '[[ $rc == 125 && $err == *"--memory must be at most 1048576 MiB (1 TiB), got 2048000000 MiB"* ]]'

run "$smvm" run --cpus 0 busybox
check "a bad --cpus is named" '[[ $rc == 125 && $err == *"--cpus 0: expected a number of vCPUs"* ]]'

run "$smvm" run --network host busybox
check "a --network smvm run does not know is named" \
  '[[ $rc == 125 && $err == *"--network host: smvm run knows slirp (a NAT to the host'"'"'s network, the default) and none"* ]]'

run "$smvm" run -p 80 busybox
check "a -p that is not HOST_PORT:GUEST_PORT says the form" \
  '[[ $rc == 125 && $err == *"-p \"80\" is not [HOST_IP:]HOST_PORT:GUEST_PORT[/udp]"* ]]'

run "$smvm" run --network none -p 8080:80 busybox
check "-p with --network none is refused" \
  '[[ $rc == 125 && $err == *"-p 8080:80: a VM with --network none has no port to publish"* ]]'

run "$smvm" run --bogus busybox
check "an unknown run option is refused" '[[ $rc == 125 && $err == *"--bogus"* ]]'

run "$smvm" run ./missing.tar
check "a missing local image is named" '[[ $rc == 125 && $err == *"./missing.tar: no such file or folder"* ]]'

run "$smvm" run Not/Lower
check "a bad reference says why" '[[ $rc == 125 && $err == *"\"Not/Lower\" is not an image reference"* ]]'

run "$smvm" pull 127.0.0.1:1/app:1
check "an unreachable registry is named" '[[ $rc == 125 && $err == *"127.0.0.1:1/app:1"*"onnect"* ]]'

printf 'not a tar' >"$work/bad.tar"
run "$smvm" pull "$work/bad.tar"
check "a file that is not an image archive is named" '[[ $rc == 125 && $err == *"bad.tar: not a readable tar archive"* ]]'

mkdir -p "$work/not-a-layout"
run "$smvm" pull "$work/not-a-layout"
check "a folder that is not an OCI layout is named" '[[ $rc == 125 && $err == *"not an OCI image layout (no oci-layout file)"* ]]'

run "$smvm" pull
check "pull without a reference says so" '[[ $rc == 125 && $err == *"reference is required"* ]]'

run "$smvm" images
check "images on an empty store prints the header only" '[[ $rc == 0 && $out == "IMAGE"* && $(echo "$out" | wc -l) == 1 ]]'

run "$smvm" rmi nothing-here
check "rmi of an unknown image fails and says so" '[[ $rc == 1 && $err == *"no image nothing-here in the store"* ]]'

run "$smvm" snapshot inspect "$work/no-snapshot"
check "inspect of a missing snapshot names it" '[[ $rc == 125 && $err == *"$work/no-snapshot: cannot open the snapshot"* ]]'

printf 'SMVMSN' >"$work/short.snap"
run "$smvm" snapshot inspect "$work/short.snap"
check "inspect of a truncated snapshot says truncated" '[[ $rc == 125 && $err == *"short.snap: truncated"* ]]'

printf 'not a snapshot at all, just some text here\n' >"$work/text.snap"
run "$smvm" snapshot inspect "$work/text.snap"
check "inspect of a file that is not a snapshot says so" '[[ $rc == 125 && $err == *"not an smvm snapshot"* ]]'

printf 'SMVMSNAP\x63\0\0\0\0\0\0\0' >"$work/future.snap"
head -c 48 /dev/zero >>"$work/future.snap"
run "$smvm" snapshot inspect "$work/future.snap"
check "a snapshot from a newer format version is refused" '[[ $rc == 125 && $err == *"format version 99 is newer than this smvm reads"* ]]'

run "$smvm" snapshot
check "snapshot without a subcommand says what to give" '[[ $rc == 125 && $err == *"inspect"* ]]'

run "$smvm" restore "$work/no-snapshot"
check "restore of a missing snapshot names it" '[[ $rc == 125 && $err == *"$work/no-snapshot: cannot open the snapshot"* ]]'

run "$smvm" restore "$work/short.snap"
check "restore of a truncated snapshot says truncated" '[[ $rc == 125 && $err == *"short.snap: truncated"* ]]'

run "$smvm" restore "$work/future.snap"
check "restore of a newer format version is refused" '[[ $rc == 125 && $err == *"format version 99 is newer"* ]]'

run "$smvm" restore
check "restore without a snapshot says so" '[[ $rc == 125 && $err == *"snapshot is required"* ]]'

run "$smvm" restore --clones 0 "$work/short.snap"
check "restore --clones 0 is refused" '[[ $rc == 125 && $err == *"--clones must be 1 to 256, got 0"* ]]'

run "$smvm" restore --clones 2 --api-sock "$work/api.sock" "$work/short.snap"
check "--api-sock with clones is refused" '[[ $rc == 125 && $err == *"--api-sock serves one VM"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[snapshot]' 'on_ready = "stop"'
run "$smvm" --config "$work/vm.toml"
check "[snapshot] without a path is refused" '[[ $rc == 125 && $err == *"vm.toml:3: [snapshot] has no path"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[snapshot]' 'path = "no-such-dir/vm.snap"'
run "$smvm" --config "$work/vm.toml"
check "a snapshot path in a missing folder is refused" '[[ $rc == 125 && $err == *"vm.toml:4: snapshot.path: the folder $work/no-such-dir does not exist"* ]]'

toml '[boot]' 'kernel = "bzImage"' '[snapshot]' 'path = "vm.snap"' 'on_ready = "later"'
run "$smvm" --config "$work/vm.toml"
check "an unknown on_ready is refused" '[[ $rc == 125 && $err == *"vm.toml:5: snapshot.on_ready must be \"stop\" or \"continue\", got \"later\""* ]]'

finish
