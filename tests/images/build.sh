#!/bin/bash
# Builds the test images from this machine's Debian packages, without docker:
#
#   OUTDIR/busybox.tar  docker.io/library/busybox:latest, a `docker save` archive (legacy
#                       layout: <id>/layer.tar, <config>.json, manifest.json, repositories)
#   OUTDIR/nginx.tar    docker.io/library/nginx:latest, an OCI image layout archive with
#                       gzip-compressed layers: the busybox layer plus an nginx layer
#
# Both archives are reproducible (sorted entries, mtime 0, numeric root ownership), so the
# shared busybox layer has one diff ID in both images. Needs: busybox-static, nginx,
# wget, dash, tar, gzip, coreutils (sha256sum), libc-bin (ldd).
#
# Usage: tests/images/build.sh OUTDIR
set -euo pipefail

out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT

arch=$(dpkg --print-architecture)
path_env="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

for tool in busybox nginx wget dash; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found (apt-get install busybox-static nginx wget dash)" >&2; exit 1; }
done
busybox_bin=$(command -v busybox)
nginx_bin=$(command -v nginx)
ldd_says=$(ldd "$busybox_bin" 2>&1 || true)
if [[ $ldd_says != *"not a dynamic executable"* ]]; then
    echo "$0: $busybox_bin is not statically linked (install busybox-static)" >&2
    exit 1
fi

# make_tar DIR FILE: a reproducible tar of DIR's contents.
make_tar() {
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -C "$1" -cf "$2" .
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# --- root filesystems ---------------------------------------------------------------

busybox_root=$work/busybox-root
mkdir -p "$busybox_root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,run,var/log}
chmod 1777 "$busybox_root/tmp"
cp "$busybox_bin" "$busybox_root/bin/busybox"
# Every applet as a relative symlink, where busybox itself would install it.
"$busybox_bin" --list-full | while read -r applet; do
    [[ $applet == bin/busybox ]] && continue
    dir=$(dirname "$applet")
    up=$(echo "$dir" | sed 's|[^/]*|..|g')
    [[ -e $busybox_root/$applet || -L $busybox_root/$applet ]] || ln -s "$up/bin/busybox" "$busybox_root/$applet"
done
[[ -L $busybox_root/bin/sh ]] || ln -s busybox "$busybox_root/bin/sh"
# Debian's static busybox crashes in its wget applet (SIGSEGV before the first request), and
# its shell runs applets in preference to files on PATH. So the image carries GNU wget and
# dash (as /bin/sh) with their shared libraries: `wget -qO- URL` works from any shell.
rm -f "$busybox_root/usr/bin/wget" "$busybox_root/bin/wget" "$busybox_root/bin/sh"
cp "$(command -v wget)" "$busybox_root/usr/bin/wget"
cp "$(command -v dash)" "$busybox_root/bin/dash"
ln -s dash "$busybox_root/bin/sh"
for bin in "$busybox_root/usr/bin/wget" "$busybox_root/bin/dash"; do
    ldd "$bin" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
        mkdir -p "$busybox_root$(dirname "$lib")"
        cp -L "$lib" "$busybox_root$lib"
    done
done
printf 'hosts: files dns\nservices: files\n' >"$busybox_root/etc/nsswitch.conf"
cat >"$busybox_root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$busybox_root/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
nogroup:x:65534:
EOF

nginx_root=$work/nginx-root
mkdir -p "$nginx_root"/{usr/sbin,etc/nginx,usr/share/nginx/html,var/log/nginx,var/lib/nginx,run}
cp "$nginx_bin" "$nginx_root/usr/sbin/nginx"
# The shared libraries at the paths the dynamic loader looks them up by.
ldd "$nginx_bin" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
    mkdir -p "$nginx_root$(dirname "$lib")"
    cp -L "$lib" "$nginx_root$lib"
done
cp /etc/nginx/mime.types "$nginx_root/etc/nginx/mime.types"
welcome=/usr/share/nginx/html/index.html
[[ -f $welcome ]] || welcome=/var/www/html/index.nginx-debian.html
grep -q "Welcome to nginx!" "$welcome"
cp "$welcome" "$nginx_root/usr/share/nginx/html/index.html"
cat >"$nginx_root/etc/nginx/nginx.conf" <<'EOF'
user www-data;
worker_processes 1;
daemon off;
pid /run/nginx.pid;
error_log stderr notice;

events {
    worker_connections 256;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    sendfile on;

    server {
        listen 80 default_server;
        root /usr/share/nginx/html;
        index index.html;
    }
}
EOF

# --- layers ---------------------------------------------------------------------------

make_tar "$busybox_root" "$work/busybox-layer.tar"
make_tar "$nginx_root" "$work/nginx-layer.tar"
busybox_diff=$(sha256 "$work/busybox-layer.tar")
nginx_diff=$(sha256 "$work/nginx-layer.tar")

# image_config FILE CONFIG_JSON DIFF_ID...: writes an OCI image config.
image_config() {
    local file=$1 config=$2
    shift 2
    local diffs="" d
    for d in "$@"; do diffs="$diffs${diffs:+,}\"sha256:$d\""; done
    printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
        "$arch" "$config" "$diffs" >"$file"
}

# --- busybox: docker save archive ---------------------------------------------------

image_config "$work/busybox-config.json" "{\"Env\":[\"$path_env\"],\"Cmd\":[\"sh\"]}" "$busybox_diff"
busybox_config=$(sha256 "$work/busybox-config.json")
save=$work/busybox-save
mkdir -p "$save/$busybox_diff"
cp "$work/busybox-layer.tar" "$save/$busybox_diff/layer.tar"
echo "1.0" >"$save/$busybox_diff/VERSION"
cp "$work/busybox-config.json" "$save/$busybox_config.json"
printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["%s/layer.tar"]}]' \
    "$busybox_config" "$busybox_diff" >"$save/manifest.json"
printf '{"busybox":{"latest":"%s"}}' "$busybox_diff" >"$save/repositories"
make_tar "$save" "$work/busybox.tar"

# --- nginx: OCI layout archive ------------------------------------------------------

layout=$work/nginx-oci
mkdir -p "$layout/blobs/sha256"
# add_blob FILE: copies FILE into the layout, prints its digest hex.
add_blob() {
    local hex
    hex=$(sha256 "$1")
    cp "$1" "$layout/blobs/sha256/$hex"
    echo "$hex"
}
gzip -n -9 -c "$work/busybox-layer.tar" >"$work/busybox-layer.tar.gz"
gzip -n -9 -c "$work/nginx-layer.tar" >"$work/nginx-layer.tar.gz"
layer1=$(add_blob "$work/busybox-layer.tar.gz")
layer2=$(add_blob "$work/nginx-layer.tar.gz")
image_config "$work/nginx-config.json" \
    "{\"Env\":[\"$path_env\"],\"Cmd\":[\"/usr/sbin/nginx\"],\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGQUIT\"}" \
    "$busybox_diff" "$nginx_diff"
config=$(add_blob "$work/nginx-config.json")
layer_media=application/vnd.oci.image.layer.v1.tar+gzip
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"%s","digest":"sha256:%s","size":%s},{"mediaType":"%s","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(size "$work/nginx-config.json")" \
    "$layer_media" "$layer1" "$(size "$work/busybox-layer.tar.gz")" \
    "$layer_media" "$layer2" "$(size "$work/nginx-layer.tar.gz")" >"$work/nginx-manifest.json"
manifest=$(add_blob "$work/nginx-manifest.json")
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"docker.io/library/nginx:latest","org.opencontainers.image.ref.name":"latest"}}]}' \
    "$manifest" "$(size "$work/nginx-manifest.json")" "$arch" >"$layout/index.json"
make_tar "$layout" "$work/nginx.tar"

# Renames are atomic, so a concurrent reader sees either no archive or a whole one.
mv -f "$work/busybox.tar" "$out/busybox.tar"
mv -f "$work/nginx.tar" "$out/nginx.tar"
echo "built $out/busybox.tar (config sha256:$busybox_config) and $out/nginx.tar (manifest sha256:$manifest)"
