#!/usr/bin/env bash
# `npm test`: everything. Type checks and lint, unit tests (backend + Grafana app), cross-process tests against a
# real Prometheus and SQLite, then the built plugin in real headless Chromium. Ends with one summary line.
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

node -e '
  let p = 0, f = 0, s = 0;
  for (const file of process.argv.slice(1)) {
    const r = require(file);
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests;
  }
  console.log(`tests: ${p} passed, ${f} failed, ${s} skipped`);
'  "$results/unit.json" "$results/integration.json" "$results/e2e.json"
