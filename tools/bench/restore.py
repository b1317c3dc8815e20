"""tools/bench/restore's measurements (see there). Prints a table.

smvm: `smvm --config` with a [snapshot] section boots the guest, which
fills some memory and calls smvm-ready; the VM stops once the snapshot is
written. Then, per run:
  from process start   exec of `smvm restore --api-sock` until its control
                       socket first answers "running" (polled every 0.5 ms)
  in process           smvm's own figure (SMVM_RESTORE_TIMING): from the
                       restore request (reading the snapshot) until the guest
                       executes again (its first read of the snapshot port);
                       "of which VM built": until KVM, memory, devices and
                       vCPUs are in their saved state, before any actor runs
QEMU: the same guest boots under `-M microvm`; at its ready line the VM is
migrated to a file (QEMU stops it as the migration ends). Then, per run:
  from process start   exec of qemu with `-incoming "exec:cat FILE"` until
                       QMP query-status answers "running" (polled likewise)
  in process           QEMU started with `-incoming defer`: from the
                       migrate-incoming command until "running"
Memory: PSS (from /proc/PID/smaps_rollup) of one `smvm restore --clones 10`
against the sum of ten `smvm --config` cold boots, every guest having
filled the same memory and waiting.
"""
import atexit, json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time

root, runs = sys.argv[1], int(sys.argv[2])
build = os.path.join(root, "build")
smvm = os.path.join(build, "smvm")
cache = os.environ.get("SMVM_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                                                      "smvm")
kernel = os.path.realpath(os.path.join(cache, "bzImage"))
work = tempfile.mkdtemp(prefix="smvm-bench-restore.")
atexit.register(shutil.rmtree, work, True)  # on an exception too
FILL_MIB = 64

INIT = f"""mount -t proc proc /proc
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=90% tmpfs /tmp
dd if=/dev/urandom of=/tmp/fill bs=1M count={FILL_MIB} 2>/dev/null
case "$(cat /proc/cmdline)" in
  *bench=qemu*) echo BENCH-READY; while :; do sleep 1; done ;;
  *bench=cold*) echo BENCH-WAITING; sleep 600; smvm-exit 0 ;;
  *bench=hold*) smvm-ready || smvm-exit 3; echo BENCH-WAITING; sleep 600; smvm-exit 0 ;;
  *) smvm-ready || smvm-exit 3; smvm-exit 0 ;;
esac
"""
with open(f"{work}/init.sh", "w") as f:
    f.write(INIT)
subprocess.run([f"{root}/guest/mkinitramfs.sh", "--init", f"{work}/init.sh", "--exit-helper", f"{build}/smvm-exit",
                "--add", f"{build}/smvm-ready:/bin/smvm-ready", "--out", f"{work}/bench.cpio.gz"], check=True)


def vm_toml(name, mib, mode, snapshot=True):
    text = (f'[machine]\nmemory_mib = {mib}\n[boot]\nkernel = "{kernel}"\ninitrd = "bench.cpio.gz"\n'
            f'cmdline = "quiet bench={mode}"\n[console]\ninput = "none"\n')
    if snapshot:
        text += f'[snapshot]\npath = "{work}/{name}.snap"\non_ready = "stop"\n'
    with open(f"{work}/{name}.toml", "w") as f:
        f.write(text)
    return f"{work}/{name}.toml"


def ask(path, request):
    """One JSON line request on a Unix socket; None while nothing listens."""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
    except OSError:
        return None
    with s:
        s.sendall((json.dumps(request) + "\n").encode())
        return json.loads(s.makefile().readline())


def wait_socket(path, request, done, deadline=120):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        reply = ask(path, request)
        if reply is not None and done(reply):
            return
        time.sleep(0.0005)
    raise RuntimeError(f"{path}: no answer in {deadline} s")


class qmp:
    """A QMP connection: negotiated, one command at a time."""
    def __init__(self, path, deadline=120):
        end = time.monotonic() + deadline
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.0005)
        self.f = self.s.makefile("rw")
        self.f.readline()
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            reply = json.loads(self.f.readline())
            if "return" in reply or "error" in reply:
                return reply

    def wait_running(self, deadline=120):
        end = time.monotonic() + deadline
        while self.cmd("query-status")["return"]["status"] != "running":
            if time.monotonic() > end:
                raise RuntimeError("QEMU never ran")
            time.sleep(0.0005)


def qemu_cmd(mib, *extra):
    return ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=off,isa-serial=on,pit=on,pic=on,acpi=off",
            "-enable-kvm", "-cpu", "host", "-m", str(mib), "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-kernel", kernel, "-initrd", f"{work}/bench.cpio.gz",
            "-append", "console=ttyS0 reboot=t panic=-1 quiet bench=qemu",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=1", *extra]


def snapshot_boot(name, toml, tries=3):
    """Boots the guest that snapshots itself at NAME.snap; returns the seconds it took.

    Under nested TCG a guest now and then resets early in its boot (smvm
    exits 0 and no snapshot is written; seen mid-line in early printk, so
    not at a point of ours): such a boot is reported on stderr and tried
    again, as it measures nothing we compare.
    """
    for attempt in range(1, tries + 1):
        t = time.monotonic()
        with open(f"{name}.console", "w") as console:
            boot = subprocess.run([smvm, "--config", toml], stdout=console, stderr=subprocess.PIPE, text=True,
                                  timeout=600)
        took = time.monotonic() - t
        if boot.returncode == 0 and os.path.exists(f"{name}.snap"):
            return took
        with open(f"{name}.console", errors="replace") as f:
            console = "".join(f.readlines()[-5:])
        print(f"({os.path.basename(name)}: try {attempt}: the guest left no snapshot, exit {boot.returncode}; "
              f"stderr: {boot.stderr.strip()}; its console ended:\n{console})", file=sys.stderr, flush=True)
    raise RuntimeError(f"{name}: no snapshot in {tries} boots")


def cold_boot(toml, out, tries=3):
    """Starts a cold boot and waits for its BENCH-WAITING line; a boot that
    ends first (the early reset above) is tried again."""
    for attempt in range(1, tries + 1):
        p = subprocess.Popen([smvm, "--config", toml], stdout=open(out, "w"), stderr=subprocess.DEVNULL)
        end = time.monotonic() + 600
        while p.poll() is None and "BENCH-WAITING" not in open(out, errors="replace").read():
            if time.monotonic() > end:
                raise RuntimeError(f"{out}: the cold boot never printed its line")
            time.sleep(0.1)
        if p.poll() is None:
            return p
        print(f"({os.path.basename(out)}: try {attempt}: the guest ended (exit {p.returncode}) before its line)",
              file=sys.stderr, flush=True)
    raise RuntimeError(f"{out}: no cold boot came up in {tries} tries")


def ms(seconds):
    return seconds * 1000.0


def smvm_restore(mib):
    toml = vm_toml(f"s{mib}", mib, "smvm")
    took = snapshot_boot(f"{work}/s{mib}", toml)
    files = os.path.getsize(f"{work}/s{mib}.snap") + os.stat(f"{work}/s{mib}.snap.mem").st_blocks * 512
    start, inproc, built = [], [], []
    for _ in range(runs):
        sock = f"{work}/api.sock"
        t0 = time.monotonic()
        p = subprocess.Popen([smvm, "restore", "--api-sock", sock, f"{work}/s{mib}.snap"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ, SMVM_RESTORE_TIMING="1"))
        wait_socket(sock, {"action": "status"}, lambda r: r.get("state") == "running")
        start.append(ms(time.monotonic() - t0))
        err = p.communicate(timeout=120)[1]
        m = re.search(r"VM built in (\d+) us, guest running (\d+) us after the restore began", err)
        if p.returncode != 0 or not m:
            raise RuntimeError(f"smvm restore failed ({p.returncode}): {err}")
        built.append(int(m.group(1)) / 1000.0)
        inproc.append(int(m.group(2)) / 1000.0)
    return start, inproc, took, files, built


def qemu_restore(mib):
    state = f"{work}/q{mib}.state"
    qsock = f"{work}/qmp.sock"
    serial = f"{work}/serial.txt"
    t = time.monotonic()
    p = subprocess.Popen(qemu_cmd(mib, "-qmp", f"unix:{qsock},server=on,wait=off", "-serial", f"file:{serial}"))
    end = time.monotonic() + 300
    while "BENCH-READY" not in (open(serial).read() if os.path.exists(serial) else ""):
        if time.monotonic() > end:
            raise RuntimeError("QEMU guest never got ready")
        time.sleep(0.01)
    q = qmp(qsock)
    # Migrated while running (QEMU stops it at the end), the state says
    # "running", so a restore starts the VM at once, as smvm's does.
    q.cmd("migrate", uri=f"exec:cat > {state}")
    while q.cmd("query-migrate")["return"].get("status") not in ("completed", "failed"):
        time.sleep(0.01)
    took = time.monotonic() - t
    q.cmd("quit")
    p.wait()
    start, inproc = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(qemu_cmd(mib, "-qmp", f"unix:{qsock},server=on,wait=off", "-serial", "null",
                                      "-incoming", f"exec:cat {state}"))
        qmp(qsock).wait_running()
        start.append(ms(time.monotonic() - t0))
        p.kill(); p.wait()
        p = subprocess.Popen(qemu_cmd(mib, "-qmp", f"unix:{qsock},server=on,wait=off", "-serial", "null",
                                      "-incoming", "defer"))
        q = qmp(qsock)
        t0 = time.monotonic()
        q.cmd("migrate-incoming", uri=f"exec:cat {state}")
        q.wait_running()
        inproc.append(ms(time.monotonic() - t0))
        p.kill(); p.wait()
    return start, inproc, took, os.path.getsize(state)


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return int(re.search(r"^Pss:\s+(\d+) kB", f.read(), re.M).group(1))


def memory(count=10, mib=128):
    print(f"(memory: {count} clones, then {count} cold boots)", file=sys.stderr, flush=True)
    snapshot_boot(f"{work}/hold", vm_toml("hold", mib, "hold"))
    out = f"{work}/clones.out"
    p = subprocess.Popen([smvm, "restore", "--clones", str(count), "--console-output", out, f"{work}/hold.snap"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # The clones share the console file, byte by byte: count bytes, not
    # lines. Each prints only "BENCH-WAITING\n" once restored.
    end = time.monotonic() + 300
    while (not os.path.exists(out) or os.path.getsize(out) < count * len("BENCH-WAITING\n")):
        if time.monotonic() > end:
            raise RuntimeError("the clones never all printed their line")
        time.sleep(0.1)
    print("(clones waiting)", file=sys.stderr, flush=True)
    time.sleep(1)
    clones = pss_kib(p.pid)
    p.kill(); p.wait()
    toml = vm_toml("cold", mib, "cold", snapshot=False)
    procs, outs = [], []
    # One boot at a time, each waiting before the next starts: ten kernels
    # booting at once under nested TCG is a load test of the L1, not of us.
    for i in range(count):
        outs.append(f"{work}/cold{i}.out")
        procs.append(cold_boot(toml, outs[-1]))
        print(f"(cold boot {i + 1} waiting)", file=sys.stderr, flush=True)
    time.sleep(1)
    cold = sum(pss_kib(p.pid) for p in procs)
    for p in procs:
        p.kill(); p.wait()
    return clones, cold, mib


def fmt(values):
    return " ".join(f"{v:.1f}" for v in values) + f"; median {statistics.median(values):.1f}"


where = "nested KVM (L1 under QEMU TCG)" if os.environ.get("SMVM_BENCH_INSIDE") else "KVM"
print(f"restore latency, {runs} runs each, {where}, guest filled {FILL_MIB} MiB before the snapshot, times in ms")
print(f"  {'guest':<8} {'':<22} {'smvm (runs; median)':<40} {'qemu microvm (runs; median)':<40} smvm/qemu")
for mib in (256, 2048):
    s_start, s_in, s_took, s_bytes, s_built = smvm_restore(mib)
    q_start, q_in, q_took, q_bytes = qemu_restore(mib)
    for label, s, q in (("from process start", s_start, q_start), ("in process", s_in, q_in)):
        print(f"  {str(mib) + ' MiB':<8} {label:<22} {fmt(s):<40} {fmt(q):<40} "
              f"{statistics.median(s) / statistics.median(q):.2f}")
    print(f"  {'':<8} {'  of which VM built':<22} {fmt(s_built):<40}")
    print(f"  {'':<8} {'snapshot taken':<22} {f'{s_took * 1000:.0f} ms (boot incl.), files {s_bytes >> 20} MiB':<40} "
          f"{f'{q_took * 1000:.0f} ms (boot incl.), file {q_bytes >> 20} MiB':<40}")
clones, cold, mib = memory()
print(f"memory of ten {mib} MiB guests (PSS), {where}: ten clones of one snapshot in one process {clones >> 10} MiB, "
      f"ten cold boots {cold >> 10} MiB ({clones / cold:.2f}x)")
