#!/usr/bin/env bash
# Makes sure `redis-server` and `redis-cli` are available: the Redis store tests start their
# own servers and fail (never skip) without them.
#
# - Both on PATH: print their versions, exit 0.
# - Otherwise, as root or with sudo, on a system with apt-get: install redis-server (which
#   brings redis-tools, that is redis-cli).
# - Otherwise: exit 1 saying what to install.
set -euo pipefail

have_redis() {
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1
}

print_versions() {
    redis-server --version
    redis-cli --version
}

if have_redis; then
    print_versions
    exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        SUDO="unavailable"
    fi
    if [ "$SUDO" != "unavailable" ]; then
        echo "redis-server/redis-cli not found: installing them with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        $SUDO apt-get update
        $SUDO apt-get install -y redis-server
        if have_redis; then
            print_versions
            exit 0
        fi
        echo "apt-get install redis-server did not provide redis-server and redis-cli" >&2
        exit 1
    fi
fi

cat >&2 <<'MSG'
redis-server and redis-cli are required by the Redis store tests, and this script cannot
install them here (it needs apt-get and root or password-less sudo). Install Redis >= 6:
  Debian/Ubuntu:  sudo apt-get install redis-server     (redis-cli comes with redis-tools)
  Fedora/RHEL:    sudo dnf install redis
  Arch:           sudo pacman -S redis
  Alpine:         sudo apk add redis
  macOS:          brew install redis
then make sure both redis-server and redis-cli are on PATH.
MSG
exit 1
