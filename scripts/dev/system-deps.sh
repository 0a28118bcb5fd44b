#!/usr/bin/env bash
# Installs the Debian packages that the tests and benchmarks drive: chromium (browser tests),
# wrk (load generator), curl (the scripts in scripts/), a CJK font (the page in Chinese).
# Needs apt-get and root (or password-less sudo); elsewhere it
# says what is missing and the tests that need it skip (CI=true makes them fail instead).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
# A CJK font, so the page in 中文 renders in headless screenshots (fonts-wqy-microhei, ~5 MB).
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)
if command -v apt-get >/dev/null 2>&1 && "${as_root[@]}" true 2>/dev/null; then
  echo "system-deps: installing ${need[*]}" >&2
  "${as_root[@]}" apt-get update -q >/dev/null
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
else
  echo "system-deps: missing ${need[*]} (install them with your package manager)" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
fi
