#!/usr/bin/env bash
# Makes sure the real servers the tests use are installed: Prometheus + promtool, VictoriaMetrics
# (single-node, test/victoria-metrics.test.ts), Chromium, scikit-learn (reference for the Isolation
# Forest) and PostgreSQL (the shared store's tests).
# As root it installs what is missing with apt;
# otherwise it says exactly what to install and the tests that need it fail with the same message.
set -uo pipefail

missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
[ -x /usr/bin/chromium ] || missing+=(chromium)
/usr/bin/python3 -c 'import sklearn' >/dev/null 2>&1 || missing+=(python3-sklearn)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
    echo "ensure-tools: apt-get install ${missing[*]} failed" >&2
    exit 1
  }
else
  echo "ensure-tools: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
