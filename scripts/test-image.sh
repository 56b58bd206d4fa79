#!/usr/bin/env bash
# `npm run test:image`: builds the real Dockerfile (runtime and plugin targets) and tests the images with a
# real Prometheus (test/image/image.test.ts): the backend as its non-root user on a read-only root file
# system, /api/health, /metrics and a forecast, the HEALTHCHECK, no test keys, the plugin target's copy.
# Starts dockerd when it is installed but not running (as root); where no Docker engine can run it exits
# 77 and says why (scripts/test.sh reports that as skipped). Where no registry can be pulled from, the base
# image is made by scripts/build-base-image.sh (cached in ~/.cache/prescaler).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${PRESCALER_IMAGE:-prescaler:test-image}
PLUGIN_IMAGE=${PRESCALER_PLUGIN_IMAGE:-prescaler-plugin:test-image}
say() { echo "test:image: $*" >&2; }
skip() {
  say "skipped: $*"
  exit 77
}

command -v docker >/dev/null || skip "no docker CLI (apt-get install docker.io)"
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || skip "no Docker engine is running and dockerd is not installed (apt-get install docker.io)"
  [ "$(id -u)" = 0 ] || skip "no Docker engine is running and starting dockerd needs root"
  say "starting dockerd (log: /tmp/prescaler-dockerd.log)"
  # Left running for later runs, as a service would be.
  nohup dockerd >/tmp/prescaler-dockerd.log 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || skip "dockerd did not start: $(tail -3 /tmp/prescaler-dockerd.log | tr '\n' ' ')"
fi

node_image=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile)
if ! docker image inspect "$node_image" >/dev/null 2>&1; then
  docker pull "$node_image" >/dev/null 2>&1 || {
    say "$node_image cannot be pulled here: making it locally"
    NODE_MAJOR=$(echo "$node_image" | sed -E 's/^node:([0-9]+).*/\1/') bash scripts/build-base-image.sh
  }
fi

# The classic builder where the CLI has no buildx (Debian's docker.io): the Dockerfile needs no BuildKit.
docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
t0=$(date +%s)
# Both targets from one snapshot of the tree, so the second build reuses the first's build stage even
# while files change (the .dockerignore inside the snapshot still applies).
snapshot=$(mktemp -d /tmp/prescaler-image-context.XXXXXX)
trap 'rm -rf "$snapshot"' EXIT
tar -c --exclude=./node_modules --exclude=./.git --exclude=./dist --exclude=./build --exclude=./data \
  --exclude=./test/artifacts --exclude='*/node_modules' . | tar -x -C "$snapshot"
log=$(mktemp /tmp/prescaler-image-build.XXXXXX.log)
for target in runtime plugin; do
  tag=$IMAGE
  [ "$target" = plugin ] && tag=$PLUGIN_IMAGE
  say "docker build --target $target -t $tag (log: $log)"
  docker build --target "$target" -t "$tag" "$snapshot" >>"$log" 2>&1 || {
    tail -40 "$log" >&2
    say "docker build --target $target failed"
    exit 1
  }
done
say "built in $(($(date +%s) - t0)) s; $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1 / 1e6}')"

PRESCALER_IMAGE=$IMAGE PRESCALER_PLUGIN_IMAGE=$PLUGIN_IMAGE npx jest --selectProjects image --runInBand "$@"
