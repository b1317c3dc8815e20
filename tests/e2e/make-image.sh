#!/usr/bin/env bash
# Builds the test image with umoci and skopeo, offline: busybox-static in
# three layers with every feature `smvm run` must honour.
#   tests/e2e/make-image.sh OUT_DIR
# Writes OUT_DIR/oci (an OCI layout, tag "test") and OUT_DIR/test.tar (a
# docker-archive of the same image).
#
#   layer 1  busybox and its applets, /etc/passwd and /etc/group (user app
#            1000:1000, also in group staff 50), /home/app owned by app,
#            /etc/removed, /opt/data/old, /opt/original and its hard link
#            /opt/hardlink, the symlink /opt/link -> original
#   layer 2  /etc/removed deleted (umoci writes a whiteout), /etc/added
#   layer 3  a tar made here: /opt/data made opaque (.wh..wh..opq) with
#            /opt/data/new in it
#   config   User app, Env GREETING=hello, WorkingDir /home/app,
#            Entrypoint /bin/echo entry, Cmd from-cmd
set -euo pipefail
out=$1
rm -rf "$out"
mkdir -p "$out"
oci=$out/oci
bundle=$out/bundle
umoci init --layout "$oci"
umoci new --image "$oci:test"
umoci unpack --image "$oci:test" "$bundle" >/dev/null
root=$bundle/rootfs

mkdir -p "$root"/{bin,etc,tmp,home/app,opt/data,root}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in sh echo cat id ls stat readlink pwd env touch mkdir rm sleep true false test grep wc md5sum kill printf nproc seq head dd hostname \
    wget nc httpd ip; do
  ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nstaff:x:50:app\napp:x:1000:\n' >"$root/etc/group"
chown 1000:1000 "$root/home/app"
echo "to be removed" >"$root/etc/removed"
echo "lower" >"$root/opt/data/old"
echo "original content" >"$root/opt/original"
ln "$root/opt/original" "$root/opt/hardlink"
ln -s original "$root/opt/link"
umoci repack --refresh-bundle --image "$oci:test" "$bundle" >/dev/null

rm "$root/etc/removed"
echo "added" >"$root/etc/added"
umoci repack --refresh-bundle --image "$oci:test" "$bundle" >/dev/null

layer3=$out/layer3
mkdir -p "$layer3/opt/data"
: >"$layer3/opt/data/.wh..wh..opq"
echo "upper" >"$layer3/opt/data/new"
tar --numeric-owner --owner=0 --group=0 -C "$layer3" -cf "$out/layer3.tar" opt
umoci raw add-layer --image "$oci:test" "$out/layer3.tar"

umoci config --image "$oci:test" --config.user app --config.env GREETING=hello \
  --config.workingdir /home/app --config.entrypoint /bin/echo --config.entrypoint entry --config.cmd from-cmd
umoci gc --layout "$oci"
skopeo copy --quiet "oci:$oci:test" "docker-archive:$out/test.tar:smvm/test:1"
rm -rf "$bundle" "$layer3" "$out/layer3.tar"
