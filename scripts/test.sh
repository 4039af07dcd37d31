#!/usr/bin/env bash
# The one command that runs every test of the workspace, as the README says:
#   scripts/test.sh
# It makes sure the servers the tests need are installed (a missing one is a failure, never a
# skip), then runs the whole test suite with every feature, doc tests included.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- Redis: the Redis store tests start their own redis-server processes -------------------
bash scripts/ensure-redis.sh

# --- Browser: Chromium and ChromeDriver for examples/tests/browser.rs ----------------------
# The demo's end-to-end test drives headless Chromium through chromedriver, and fails (never
# skips) without them. Installs Debian's `chromium` and `chromium-driver` with apt-get when
# they are missing and this runs as root; otherwise fails saying exactly what to install.
have_browser() {
  command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1 &&
    command -v "${CHROMEDRIVER:-chromedriver}" >/dev/null 2>&1
}

ensure_browser() {
  if have_browser; then
    "${CHROMEDRIVER:-chromedriver}" --version
    return 0
  fi
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "chromium/chromedriver not found: installing chromium and chromium-driver with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
    if have_browser; then
      "${CHROMEDRIVER:-chromedriver}" --version
      return 0
    fi
    echo "apt-get install chromium chromium-driver did not provide chromium and chromedriver" >&2
    return 1
  fi
  cat >&2 <<'MSG'
The browser test (examples/tests/browser.rs) needs Chromium and ChromeDriver, and this script
can install them only as root on a system with apt-get. Install them, then run it again:
  Debian/Ubuntu:  sudo apt-get install chromium chromium-driver
(or point the CHROMIUM and CHROMEDRIVER environment variables at a matching pair).
MSG
  return 1
}

ensure_browser
# --- end of the browser block -----------------------------------------------------------

echo "==> cargo test --workspace --all-features"
cargo test --workspace --all-features --no-fail-fast
