#!/usr/bin/env bash
# The Dagster UI and daemon for the embedded default (http://127.0.0.1:3000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh --inexact
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
# dagster dev copies its SIGINT handler onto SIGTERM: give it the default INT handling.
exec env --default-signal=INT "$UV" run --frozen --no-sync dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000 "$@"
