#!/usr/bin/env bash
# One command for a new user: set up, then render the embedded demo (SQLite Dagster instance,
# local artifact store, CPU avatar, local output). The last line printed is the MP4's path.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh --inexact --no-dev
exec "$UV" run --frozen --no-sync talking-head demo "$@"
