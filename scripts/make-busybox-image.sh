#!/usr/bin/env bash
# Builds a busybox image as a `docker save` tarball from Debian's
# busybox-static: one layer with /bin/busybox and a link per applet.
# Usage: make-busybox-image.sh OUT.tar [TAG] [EXTRA]
#   TAG defaults to busybox:latest; EXTRA is more members of the image's
#   run config as JSON, e.g. '"Healthcheck":{"Test":["CMD","true"]}'.
set -euo pipefail
out=${1:?usage: make-busybox-image.sh OUT.tar [TAG]}
tag=${2:-busybox:latest}
extra=${3:+,$3}
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-busybox-image: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,root,home,var,usr/bin,usr/sbin,sbin,proc,sys,dev}
chmod 1777 "$root/tmp"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\nwheel:x:10:root\nnogroup:x:65534:\n' > "$root/etc/group"
# A reproducible layer: fixed owner and mtime, sorted names.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00:00Z' \
    -C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
created=2024-01-01T00:00:00Z
cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"$created","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]$extra},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"$created","created_by":"berth scripts/make-busybox-image.sh (Debian busybox-static)"}]}
JSON
config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mkdir -p "$work/img/$diff_id"
mv "$work/layer.tar" "$work/img/$diff_id/layer.tar"
mv "$work/config.json" "$work/img/$config_id.json"
repo=${tag%:*}; t=${tag##*:}
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config_id" "$tag" "$diff_id" > "$work/img/manifest.json"
printf '{"%s":{"%s":"%s"}}' "$repo" "$t" "$diff_id" > "$work/img/repositories"
tar -C "$work/img" -cf "$out" .
echo "$out: $tag (sha256:$config_id)"
