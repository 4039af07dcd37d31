#!/usr/bin/env bash
# The one command that runs every test of the workspace, as the README says:
#   scripts/test.sh
# It first runs scripts/setup.sh, which installs the servers and the browser the tests need
# (a missing one is a failure, never a skip), then the whole test suite with every feature,
# doc tests included, through the same cargo alias people run (`cargo ci-test`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "==> cargo ci-test"
cargo ci-test
