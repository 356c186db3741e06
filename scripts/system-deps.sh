#!/usr/bin/env bash
# Debian packages the test suite uses: PostgreSQL 15 (store tests) and Chromium (the digest
# page in a headless browser). Idempotent and quick when everything is present; without root
# it only reports what is missing (those tests then skip).
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]} (not root: the tests that need them will skip)" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq >/dev/null && \
       apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "system-deps: could not install ${missing[*]}: the tests that need them will skip" >&2
fi
