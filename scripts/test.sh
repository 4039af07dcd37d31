#!/usr/bin/env bash
# The one command that runs every test of the workspace, as the README says:
#   scripts/test.sh
# It makes sure the servers the tests need are installed (a missing one is a failure, never a
# skip), then runs the whole test suite with every feature, doc tests included.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x scripts/ensure-redis.sh ]; then
  scripts/ensure-redis.sh
fi

echo "==> cargo test --workspace --all-features"
cargo test --workspace --all-features --no-fail-fast
