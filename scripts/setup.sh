#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, and checks it is there:
#   redis-server + redis-cli   the Redis store tests start their own servers
#   postgresql                 the Postgres store tests start a private cluster (initdb, pg_ctl,
#                              pg_dump; Debian keeps them in /usr/lib/postgresql/<version>/bin)
#   chromium + chromedriver    the demo's end-to-end browser test (examples/tests/browser.rs)
#
#   valgrind, wrk              only with --bench: scripts/bench-callgrind.sh, scripts/bench-load.sh
#
#   scripts/setup.sh            install what is missing (apt-get, as root or with sudo)
#   scripts/setup.sh --check    only say what is missing; exit 1 if anything is
#   scripts/setup.sh --bench    what the benchmark scripts need instead of the test suite's
#
# scripts/test.sh runs it first, so the README's test command sets up a machine by itself.
# A tool that is missing and cannot be installed is a failure, never a skipped test.
set -euo pipefail

CHECK_ONLY=false
ORDER=(redis postgres browser)
for arg in "$@"; do
  case "$arg" in
    --check) CHECK_ONLY=true ;;
    --bench) ORDER=(redis valgrind wrk) ;;
    *) echo "usage: scripts/setup.sh [--check] [--bench]" >&2; exit 2 ;;
  esac
done

CHROMIUM="${CHROMIUM:-chromium}"
CHROMEDRIVER="${CHROMEDRIVER:-chromedriver}"

# Each requirement: the commands that must be on PATH, and the Debian packages that bring them.
declare -A PACKAGES=(
  [redis]="redis-server"
  [postgres]="postgresql"
  [browser]="chromium chromium-driver"
  [valgrind]="valgrind"
  [wrk]="wrk"
)
declare -A COMMANDS=(
  [redis]="redis-server redis-cli"
  [postgres]="initdb pg_ctl pg_dump"
  [browser]="$CHROMIUM $CHROMEDRIVER"
  [valgrind]="valgrind"
  [wrk]="wrk"
)

# Where the Postgres server tools are: PG_BIN, the newest /usr/lib/postgresql/*/bin, or PATH
# (the same order as the tests' tests/support/postgres_server.rs).
pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)"
}

has_all() {
  local cmd
  for cmd in $1; do
    command -v "$cmd" >/dev/null 2>&1 || [ -x "$(pg_bin)/$cmd" ] || return 1
  done
}

missing=()
for need in "${ORDER[@]}"; do
  has_all "${COMMANDS[$need]}" || missing+=("$need")
done

if [ ${#missing[@]} -gt 0 ] && ! $CHECK_ONLY; then
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    SUDO="unavailable"
  fi
  if [ "$SUDO" != "unavailable" ] && command -v apt-get >/dev/null 2>&1; then
    packages=()
    for need in "${missing[@]}"; do
      read -r -a list <<<"${PACKAGES[$need]}"
      packages+=("${list[@]}")
    done
    echo "==> installing ${packages[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${packages[@]}"
  fi
  still=()
  for need in "${missing[@]}"; do
    has_all "${COMMANDS[$need]}" || still+=("$need")
  done
  missing=("${still[@]+"${still[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  {
    echo "Missing, and not installed here (or not on PATH):"
    for need in "${missing[@]}"; do
      echo "  ${COMMANDS[$need]}   (Debian/Ubuntu: apt-get install ${PACKAGES[$need]})"
    done
    echo "This script installs them itself when it runs as root (or with password-less sudo)"
    echo "on a system with apt-get. Elsewhere: Redis >= 6 (brew install redis, dnf install redis,"
    echo "pacman -S redis, apk add redis), PostgreSQL >= 12 (its initdb, pg_ctl and pg_dump; set PG_BIN to their directory), a matching Chromium + ChromeDriver pair (or point"
    echo "the CHROMIUM and CHROMEDRIVER environment variables at one), valgrind and wrk."
  } >&2
  exit 1
fi

for need in "${ORDER[@]}"; do
  case "$need" in
    redis) redis-server --version; redis-cli --version ;;
    postgres) "$(pg_bin)/initdb" --version ;;
    browser) "$CHROMEDRIVER" --version ;;
    valgrind) valgrind --version ;;
    wrk) command -v wrk ;;
  esac
done
