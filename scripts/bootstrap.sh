#!/usr/bin/env bash
# Set up the project's environment with nothing but Python 3.11/3.12 on the machine:
# installs uv into a private tools venv (outside the repo) when uv is not on PATH, then
# syncs .venv from uv.lock. Extra arguments go to `uv sync`.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION="0.13.9"
CACHE="${TALKING_HEAD_CACHE:-$HOME/.cache/talking-head-dagster}"
if command -v uv >/dev/null 2>&1; then
  UV="$(command -v uv)"
else
  TOOLS="$CACHE/tools"
  if [ ! -x "$TOOLS/bin/uv" ]; then
    PYTHON=""
    for candidate in python3.12 python3.11 python3; do
      if "$candidate" -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then
        PYTHON="$candidate"
        break
      fi
    done
    if [ -z "$PYTHON" ]; then
      echo "Python 3.11 or 3.12 is needed (python3.12, python3.11 or python3 on PATH)." >&2
      exit 1
    fi
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  UV="$TOOLS/bin/uv"
fi
export UV
"$UV" sync --frozen "$@" >&2
