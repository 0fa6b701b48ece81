#!/usr/bin/env bash
# Assembles the b24gate runtime image offline with buildah: no base image and
# no registry, only files of this machine. The image holds what the Dockerfile's
# final stage holds, taken from the host instead of from Debian packages:
#   /usr/local/bin/b24gate          the gateway
#   every library `ldd` names       and the dynamic loader
#   /etc/ssl/certs/ca-certificates.crt
#   /etc/passwd, /etc/group         root and the non-root user b24gate (10001)
#   /var/lib/b24gate, /tmp          writable by b24gate (OAuth token store)
# and no shell. Runs as 10001:10001; entrypoint b24gate; OCI labels.
#
# usage: scripts/build-image.sh [BINARY]      (default build/service/b24gate;
#        build it first: scripts/build.sh b24gate)
#   IMAGE=b24gate:dev            name of the committed image
#   OCI_ARCHIVE=FILE             also write the image to an oci-archive file
#   BUILDAH_ARGS="--root D --runroot D --storage-driver vfs"
#                                global buildah options (the test keeps its
#                                images in a storage of its own this way)
# Prints the image's size. Needs root (buildah mount) and the Debian package
# buildah (scripts/install-deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

BINARY=${1:-build/service/b24gate}
IMAGE=${IMAGE:-b24gate:dev}
OCI_ARCHIVE=${OCI_ARCHIVE:-}
read -r -a BUILDAH_GLOBAL <<<"${BUILDAH_ARGS:-}"
export BUILDAH_ISOLATION=${BUILDAH_ISOLATION:-chroot}
readonly USER_ID=10001

bh() { buildah "${BUILDAH_GLOBAL[@]}" "$@"; }

[[ -x $BINARY ]] || { echo "build-image: no executable $BINARY; run scripts/build.sh b24gate" >&2; exit 1; }
command -v buildah >/dev/null || { echo "build-image: buildah not installed; run scripts/install-deps.sh" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "build-image: must run as root (buildah mount needs it)" >&2; exit 1; }

ctr=$(bh from --name "b24gate-build-$$" scratch)
mounted=
cleanup() {
  [[ -n $mounted ]] && bh umount "$ctr" >/dev/null 2>&1
  bh rm "$ctr" >/dev/null 2>&1 || true
}
trap cleanup EXIT
root=$(bh mount "$ctr")
mounted=1

# Debian 12 merges /usr: /lib, /lib64, /bin and /sbin are links into /usr.
# The image keeps the same layout, so the paths ldd prints hold there too.
mkdir -p "$root"/usr/{lib,lib64,bin,sbin,local/bin} "$root"/etc/ssl/certs \
  "$root"/etc/b24gate "$root"/var/lib/b24gate "$root"/tmp "$root"/run
for d in lib lib64 bin sbin; do
  if [[ -L /$d ]]; then ln -s "$(readlink "/$d")" "$root/$d"; else mkdir -p "$root/$d"; fi
done

# Copies FILE (through symlinks) to the same path in the image, then names
# the ldd path too if it was a link (libcurl.so.4 -> libcurl.so.4.8.0).
copy_file() {
  local path=$1 real
  real=$(realpath "$path")
  install -D -m 0755 "$real" "$root$real"
  local dir
  dir=$(realpath "$(dirname "$path")")
  if [[ "$dir/$(basename "$path")" != "$real" && ! -e "$root$dir/$(basename "$path")" ]]; then
    mkdir -p "$root$dir"
    ln -s "$real" "$root$dir/$(basename "$path")"
  fi
}

# Debug information stays in the build tree (it is 95% of the file).
strip --strip-debug -o "$root/usr/local/bin/b24gate" "$BINARY"
chmod 0755 "$root/usr/local/bin/b24gate"
libs=$(ldd "$BINARY" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[[ -n $libs ]] || { echo "build-image: ldd named no library for $BINARY" >&2; exit 1; }
nlibs=0
for lib in $libs; do copy_file "$lib"; nlibs=$((nlibs + 1)); done
# The loader's own name as the binary asks for it (PT_INTERP).
interp=$(readelf -l "$BINARY" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[[ -n $interp ]] && copy_file "$interp"

install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
b24gate:x:$USER_ID:$USER_ID:b24gate:/var/lib/b24gate:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
b24gate:x:$USER_ID:
EOF
# libcurl resolves portal names with getaddrinfo; nss files/dns are in libc.
echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
chown "$USER_ID:$USER_ID" "$root/var/lib/b24gate"
chmod 0750 "$root/var/lib/b24gate"
chmod 1777 "$root/tmp"

rootfs_kib=$(du -sk "$root" | cut -f1)
bh umount "$ctr" >/dev/null
mounted=

revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
bh config \
  --entrypoint '["/usr/local/bin/b24gate"]' --cmd '' \
  --user "$USER_ID:$USER_ID" --workingdir / \
  --port 50051 --port 9464 --volume /var/lib/b24gate \
  --env PATH=/usr/local/bin \
  --label org.opencontainers.image.title=b24gate \
  --label "org.opencontainers.image.description=gRPC gateway for the Bitrix24 REST API" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --label org.opencontainers.image.base.name=scratch \
  "$ctr"
bh commit --quiet --format oci --rm "$ctr" "$IMAGE" >/dev/null
trap - EXIT
if [[ -n $OCI_ARCHIVE ]]; then
  bh push --quiet "$IMAGE" "oci-archive:$OCI_ARCHIVE:$IMAGE"
  echo "build-image: wrote $OCI_ARCHIVE ($(du -h "$OCI_ARCHIVE" | cut -f1))"
fi
size=$(bh images --format '{{.Size}}' "$IMAGE" | head -1)
echo "build-image: $IMAGE: b24gate + $nlibs libraries + CA certificates, $((rootfs_kib / 1024)) MiB unpacked, image size $size"
