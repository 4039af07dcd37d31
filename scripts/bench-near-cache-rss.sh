#!/usr/bin/env bash
# The Redis near cache's memory under many distinct sessions: the process's VmRSS every
# million loads while SESSIONS sessions (well above the cache's CAPACITY) are loaded
# round-robin READS times through `RedisSessionStore::load` with the cache on.
#
#   scripts/bench-near-cache-rss.sh                       # 100 000 sessions, 10M reads, capacity 10 000
#   scripts/bench-near-cache-rss.sh --sessions 100000 --reads 3000000 --capacity 10000
#
# Starts its own redis-server (no persistence). Environment: BENCH_STATE_KIB sizes each
# state (see session/benches/support/mod.rs), BENCH_IN_FLIGHT the concurrent loads (32).
# Prints a Markdown table of the samples.
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=100000
READS=10000000
CAPACITY=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) SESSIONS="$2"; shift 2 ;;
    --reads) READS="$2"; shift 2 ;;
    --capacity) CAPACITY="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v "${REDIS_SERVER:-redis-server}" >/dev/null || bash scripts/setup.sh >&2
cargo bench -p session --features redis-session --bench near_cache_rss --no-run >&2
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- command: scripts/bench-near-cache-rss.sh --sessions $SESSIONS --reads $READS --capacity $CAPACITY"
start=$(date +%s)
cargo bench -p session --features redis-session --bench near_cache_rss -- "$SESSIONS" "$READS" "$CAPACITY" 2>/dev/null
echo "- wall time: $(( $(date +%s) - start )) s; load average after $(cut -d' ' -f1-3 /proc/loadavg)"
