#!/usr/bin/env bash
# The Dagster UI and daemon for the embedded default (http://127.0.0.1:3000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh --inexact
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# The published videos over HTTP on 127.0.0.1 (port $TALKING_HEAD_OUTPUT_PORT, default 3001), so the
# links in the UI play in a browser (browsers block file:// links). Renders started elsewhere get
# the same links with TALKING_HEAD_PUBLISH__PUBLIC_BASE_URL=http://127.0.0.1:3001.
if [ "${TALKING_HEAD_PUBLISH__BACKEND:-local}" = local ] && [ -z "${TALKING_HEAD_PUBLISH__PUBLIC_BASE_URL:-}" ]; then
  output_port="${TALKING_HEAD_OUTPUT_PORT:-3001}"
  mkdir -p "${TALKING_HEAD_PUBLISH__LOCAL_DIR:-output}"
  "$UV" run --frozen --no-sync python -m http.server "$output_port" --bind 127.0.0.1 \
    --directory "${TALKING_HEAD_PUBLISH__LOCAL_DIR:-output}" >/dev/null 2>&1 &
  output_server=$!
  trap 'kill "$output_server" 2>/dev/null || true' EXIT
  export TALKING_HEAD_PUBLISH__PUBLIC_BASE_URL="http://127.0.0.1:$output_port"
fi
# dagster dev copies its SIGINT handler onto SIGTERM: give it the default INT handling.
env --default-signal=INT "$UV" run --frozen --no-sync dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000 "$@"
