# The demo guest: say hello, then end the VM with status 0.
mount -t proc proc /proc
echo "Hello from an smvm guest: $(uname -sr) on $(grep -c ^processor /proc/cpuinfo) vCPU(s)"
exec smvm-exit 0
