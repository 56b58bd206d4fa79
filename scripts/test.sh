#!/usr/bin/env bash
# `npm test`: everything. Type checks and lint, unit tests (backend + Grafana app), cross-process tests against a
# real Prometheus and SQLite, the built plugin in real headless Chromium, then the Docker images built and run
# (skipped, saying why, where no Docker engine can run). Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-tools.sh

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

echo "== typecheck and lint" >&2
npx tsc -p tsconfig.json
npm run -s lint

echo "== unit tests" >&2
npx jest --selectProjects backend frontend --json --outputFile "$results/unit.json"

echo "== integration tests (real Prometheus, SQLite, child processes)" >&2
npx jest --selectProjects integration --runInBand --json --outputFile "$results/integration.json"

echo "== build + end-to-end tests (real Chromium)" >&2
npm run -s build
npx jest --selectProjects e2e --runInBand --json --outputFile "$results/e2e.json"

echo "== the Docker images, built and run (real Docker engine, real Prometheus)" >&2
image_status=0
bash scripts/test-image.sh --json --outputFile "$results/image.json" || image_status=$?
if [ "$image_status" != 0 ] && [ "$image_status" != 77 ] && [ ! -s "$results/image.json" ]; then
  echo "test:image failed before its tests ran" >&2
  exit "$image_status"
fi

node -e '
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    const r = require(file);
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests;
  }
  console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
'  "$results/unit.json" "$results/integration.json" "$results/e2e.json" $([ -s "$results/image.json" ] && echo "$results/image.json")
if [ "$image_status" = 77 ]; then echo "image tests: skipped (no Docker engine here, see above)"; fi
[ "$image_status" = 0 ] || [ "$image_status" = 77 ] || exit "$image_status"
