#!/usr/bin/env bash
# End-to-end `smvm run` on KVM, with the store tests/e2e/images.sh left in
# BUILD_DIR/e2e-images: every part of the test image checked from inside
# the guest, the CLI's overrides, streams, stdin, status and signals.
#   tests/e2e/run.sh BUILD_DIR
set -uo pipefail
source "$(dirname "$0")/env.sh"
use_image_store
layout=$images/image/oci:test
shell=("$smvm" run --entrypoint /bin/sh)

run "$smvm" run "$archive"
check "the image's Entrypoint and Cmd run, with the default kernel" '[[ $rc == 0 && $out == "entry from-cmd" ]]'

run "${shell[@]}" "$archive" -c 'echo to-stdout; echo to-stderr >&2; exit 7'
check "exit 7 is smvm's status; stdout and stderr stay apart" \
  '[[ $rc == 7 && $out == "to-stdout" && $err == "to-stderr" ]]'

run "${shell[@]}" "$layout" -c 'id -u; id -g; id -G; pwd; echo "$GREETING $HOME"; stat -c %u:%g /home/app'
check "USER, its groups, WORKDIR, ENV and HOME come from the image" \
  '[[ $rc == 0 && $out == $'"'"'1000\n1000\n1000 50\n/home/app\nhello /home/app\n1000:1000'"'"' ]]'

run "${shell[@]}" "$layout" -c 'test ! -e /etc/removed && cat /etc/added && test ! -e /opt/data/old && cat /opt/data/new &&
  test "$(stat -c %i /opt/original)" = "$(stat -c %i /opt/hardlink)" && stat -c %h /opt/hardlink &&
  readlink /opt/link && cat /opt/link'
check "whiteout, opaque folder, hard link and symlink are as the layers say" \
  '[[ $rc == 0 && $out == $'"'"'added\nupper\n2\noriginal\noriginal content'"'"' ]]'

printf 'FROM_FILE=yes\n# a comment\n\nGREETING=from-file\n' >"$work/env"
run "${shell[@]}" -e GREETING=from-flag --env-file "$work/env" -w /tmp/new/dir -u root "$archive" \
  -c 'echo "$GREETING $FROM_FILE"; pwd; id -u'
check "-e, --env-file, -w (created when missing) and -u override the image" \
  '[[ $rc == 0 && $out == $'"'"'from-flag yes\n/tmp/new/dir\n0'"'"' ]]'

run "${shell[@]}" -u 1000:50 "$archive" -c 'id -u; id -g; id -G'
check "-u uid:gid sets both, without supplementary groups" '[[ $rc == 0 && $out == $'"'"'1000\n50\n50'"'"' ]]'

before=$(md5sum "$SMVM_CACHE"/images/rootfs/*.ext4)
run "${shell[@]}" -u 0 "$archive" -c 'echo changed >/etc/passwd && rm /opt/original && mkdir /new && cat /etc/passwd'
check "the workload writes to its own overlay" '[[ $rc == 0 && $out == "changed" ]]'
check "the shared root disk is unchanged" '[[ "$(md5sum "$SMVM_CACHE"/images/rootfs/*.ext4)" == "$before" ]]'
run "${shell[@]}" "$archive" -c 'cat /etc/passwd | head -n1'
check "the next VM of the image starts clean" '[[ $rc == 0 && $out == "root:x:0:0:root:/root:/bin/sh" ]]'

run --stdin $'line one\nline two\n' "$smvm" run -i --entrypoint /bin/cat "$archive"
check "-i passes stdin, and its end, to the workload" '[[ $rc == 0 && $out == $'"'"'line one\nline two'"'"' ]]'

run --stdin "ignored" "${shell[@]}" "$archive" -c 'cat; echo done'
check "without -i the workload's stdin is empty" '[[ $rc == 0 && $out == "done" ]]'

run "${shell[@]}" --cpus 2 --memory 256m "$archive" -c 'nproc; grep MemTotal /proc/meminfo'
check "--cpus and --memory size the VM" \
  '[[ $rc == 0 && ${out%%$'"'"'\n'"'"'*} == 2 && $(echo "$out" | tail -n1 | tr -s " " | cut -d" " -f2) -gt 200000 &&
     $(echo "$out" | tail -n1 | tr -s " " | cut -d" " -f2) -lt 262144 ]]'

run "${shell[@]}" "$archive" -c 'seq 1 200000'
check "200000 lines of output arrive whole and in order" \
  '[[ $rc == 0 && "$(printf "%s\n" "$out" | md5sum)" == "$(seq 1 200000 | md5sum)" ]]'

run "$smvm" run --entrypoint no-such-command "$archive"
check "a command that does not exist exits 127 and says so" \
  '[[ $rc == 127 && $err == *"cannot run no-such-command"* ]]'

run "${shell[@]}" -u nobody "$archive" -c true
check "an unknown user is a clear error" '[[ $rc == 125 && $err == *"unable to find user nobody"* ]]'

run "$smvm" run "$(cat "$images/registry-ref")"
check "the image pulled from the registry runs" '[[ $rc == 0 && $out == "entry from-cmd" ]]'

run "$build/smvm-embed-example" "$archive" /bin/sh -c 'echo "$GREETING from $(id -un)"'
check "a program embedding smvm (examples/embed.cpp) runs the image" '[[ $rc == 0 && $out == "embedded from app" ]]'

# The network: by default a NAT (libslirp) with eth0 set before the workload.
run "${shell[@]}" "$archive" -c 'ip -4 -o addr show eth0 | grep -o "inet [0-9./]*"; ip route | grep -o "default via [0-9.]* dev eth0"; cat /etc/resolv.conf; grep smvm /etc/hosts'
check "eth0 is 10.0.2.15/24 with a route and a name server via the NAT" \
  '[[ $rc == 0 && $out == $'"'"'inet 10.0.2.15/24\ndefault via 10.0.2.2 dev eth0\nnameserver 10.0.2.3\n10.0.2.15\tsmvm'"'"' ]]'

run "${shell[@]}" --network none "$archive" -c 'ls /sys/class/net | grep -c eth'
check "--network none gives the VM no card" '[[ $out == 0 ]]'

mkdir -p "$work/www" && echo "served by the host" >"$work/www/page.txt"
web_port=$((20000 + RANDOM % 20000))
busybox httpd -f -p "127.0.0.1:$web_port" -h "$work/www" &
web_pid=$!
run "${shell[@]}" "$archive" -c "wget -q -O - http://10.0.2.2:$web_port/page.txt"
kill $web_pid 2>/dev/null; wait $web_pid 2>/dev/null || true  # killed: 143
check "the workload fetches a page from the host's 127.0.0.1 (as 10.0.2.2)" \
  '[[ $rc == 0 && $out == "served by the host" ]]'

published=$((20000 + RANDOM % 20000))
run "$smvm" run -d --name published -p "127.0.0.1:$published:8080" --entrypoint /bin/httpd "$archive" -f -p 8080 -h /etc
check "run -d -p starts a server in a VM" '[[ $rc == 0 && $out == published ]]'
got=""
for _ in $(seq 100); do got=$(curl -fsS -m 5 "http://127.0.0.1:$published/added" 2>/dev/null) && break; sleep 0.2; done
check "-p publishes the guest's port on the host" '[[ $got == added ]]'
run "$smvm" run -d --name second -p "127.0.0.1:$published:8080" --entrypoint /bin/httpd "$archive" -f -p 8080 -h /etc
check "a host port in use is a clear error" \
  '[[ $rc == 125 && $err == *"cannot publish 127.0.0.1:$published:8080/tcp"* ]]'
"$smvm" stop -t 2 published >/dev/null 2>&1 || true

# Ctrl-C: smvm passes the first SIGINT to the workload, which handles it.
set +e
"${shell[@]}" "$archive" -c 'trap "echo caught; exit 3" INT; echo ready; while :; do sleep 0.2; done' >"$work/sig.out" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q ready "$work/sig.out" && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
set -e
out=$(cat "$work/sig.out")
check "SIGINT reaches the workload, and its status is smvm's" '[[ $rc == 3 && $out == $'"'"'ready\ncaught'"'"' ]]'
finish
