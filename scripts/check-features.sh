#!/usr/bin/env bash
# Builds each feature of `session` and `session-config` on its own, and each crate with no
# default features, so that every combination we document compiles (the test suite itself
# runs with every feature on).
#
#   scripts/check-features.sh
set -euo pipefail
cd "$(dirname "$0")/.."

features_of() {
  cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
name = sys.argv[1]
for package in json.load(sys.stdin)["packages"]:
    if package["name"] == name:
        print("\n".join(sorted(f for f in package["features"] if f != "default")))
' "$1"
}

for crate in session session-config; do
  echo "==> cargo check -p $crate --no-default-features"
  cargo check -q -p "$crate" --no-default-features
  for feature in $(features_of "$crate"); do
    echo "==> cargo check -p $crate --no-default-features --features $feature"
    cargo check -q -p "$crate" --no-default-features --features "$feature"
  done
done
