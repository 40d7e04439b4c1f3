#!/usr/bin/env bash
# Debian's Chromium, for the browser test of the Dagster UI (tests/ui/). Needs root (apt-get); does
# nothing when chromium is already there. The test drives it with playwright-core (no browser download).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_browser.sh: chromium is missing; run this script as root (it uses apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium >&2
