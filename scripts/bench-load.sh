#!/usr/bin/env bash
# The load benchmark: real HTTP on loopback, one server worker pinned to CPU 0,
# wrk pinned to CPU 1, ours and actix-session 0.11 alternating A/B in one run.
#
#   scripts/bench-load.sh                          # every store and route, 10 s per run
#   scripts/bench-load.sh --duration 3 --warmup 1 --stores "cookie-private memory" --routes read
#   scripts/bench-load.sh --rounds 3 --out target/bench-load.md
#   scripts/bench-load.sh --soak 10000000 --ttl-secs 2    # RSS over 10M logins, memory store
#   scripts/bench-load.sh --stores "memory redis postgres sqlite" --routes "read write login acquire"
#
# --soak N: one server (ours, memory store, state TTL --ttl-secs) gets N logins, each
# creating a session that expires; VmRSS and VmHWM are reported after every N/10 (wrk runs
# for a time, so a chunk is calibrated from the measured rate: about N/10 each).
#
# Per run it reports requests/s, p50 and p99 latency (wrk --latency), server CPU time per
# request (utime+stime deltas of /proc/PID/stat over the measured wrk run, divided by the
# requests wrk completed), and peak RSS (VmHWM of /proc/PID/status); then ratios to the
# no-session server on the same route and ours against actix-session. Each run gets a fresh
# server; before it, the script logs in with curl for a valid session cookie. The table goes
# to stdout and to --out (default: $TARGET/bench-load-DATE.md).
#
# Cookie routes (read, write, untouched) spread the requests over --sessions sessions (default:
# one per connection; each logged in with curl before the run), round-robin through a wrk Lua
# script, so requests in flight together carry different sessions, as different users do.
# `--sessions 1` sends one cookie on every connection (every write then races the others).
#
# Redis routes also run ours with the near cache (`ours-redis-cached`, `--near-cache`) next to
# ours without it (the cost of a miss). The run ends by drawing docs/bench.svg (req/s per
# route: no middleware, actix-session, ours; cookie-private and Redis) from the medians
# (--svg FILE for another file, --svg "" for none).
#
# Redis runs use a redis-server the script starts on a free loopback port, pinned to CPU 1
# beside wrk so CPU 0 measures the server only. Postgres runs (`--stores postgres`, ours only:
# actix-session has no SQL store) use a private cluster the same way: initdb on a temporary
# directory (as `nobody` through runuser when root, since initdb refuses root), a free
# loopback port, fsync off, pinned to CPU 1; SQLite runs a file in the temporary directory.
# For those three stores the table adds the store's own CPU per request (redis-server, or the
# Postgres processes; SQLite runs inside the server, so its CPU is the server's). The route
# `acquire` (SQL stores only, no cookie) takes a connection from the store's pool and gives it
# back: the floor under each of the store's statements. Our Redis store needs the `redis-session`
# feature: it is turned on when this tree has the store (`mod redis;` in
# session/src/storage/mod.rs); otherwise our Redis runs are skipped, and the table says so.
#
# Needs: cargo, curl, taskset, python3 (the summary); scripts/setup.sh --bench installs wrk,
# valgrind and redis-server when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=10
WARMUP=2
CONNECTIONS=32
SESSIONS=""
THREADS=1
ROUNDS=1
STORES="cookie-private cookie-signed memory redis"
ROUTES="read write login untouched"
OUT=""
SVG="docs/bench.svg"
SOAK=0
TTL_SECS=2
SERVER_CPU=0
CLIENT_CPU=1

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  cat <<'EOF'
Options: --duration S (10) --warmup S (2) --connections C (32) --sessions N (C) --threads T (1) --rounds R (1)
         --stores "cookie-private cookie-signed memory redis postgres sqlite"
         --routes "read write login untouched acquire"
         --out FILE --svg FILE (docs/bench.svg) --soak N --ttl-secs T (2, soak only)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --sessions) SESSIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --stores) STORES="$2"; shift 2 ;;
    --routes) ROUTES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --svg) SVG="$2"; shift 2 ;;
    --soak) SOAK="$2"; shift 2 ;;
    --ttl-secs) TTL_SECS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

SESSIONS="${SESSIONS:-$CONNECTIONS}"
[ "$SESSIONS" -ge 1 ] || { echo "--sessions wants at least 1" >&2; exit 2; }
TARGET="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
if [ -z "$OUT" ]; then
  if [ "$SOAK" -gt 0 ]; then OUT="$TARGET/bench-soak-$STAMP.md"; else OUT="$TARGET/bench-load-$STAMP.md"; fi
fi
WORK="$(mktemp -d)"
RESULTS="$WORK/results.tsv"
: > "$RESULTS"

SERVER_PID=""
REDIS_PID=""
PG_DIR=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$REDIS_PID" ]; then kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; fi
  if [ -n "$PG_DIR" ]; then as_pg pg_ctl -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- tools -------------------------------------------------------------------------------
bash scripts/setup.sh --bench >&2
for tool in curl taskset python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done
CLK_TCK="$(getconf CLK_TCK)"

# --- build ---------------------------------------------------------------------------------
# Our Redis store is built in when this tree has it (it lives behind `redis-session`).
FEATURES=()
OURS_REDIS=0
if grep -qE "^(pub(\(crate\))? )?mod redis;" session/src/storage/mod.rs; then
  FEATURES=(--features redis-session)
  OURS_REDIS=1
else
  echo "    (this tree has no Redis store of ours: our Redis runs are skipped)" >&2
fi
# The bench profile: release optimisations plus line tables (for perf), sharing the
# dependencies `cargo bench` builds.
echo "==> cargo build --profile bench -p examples ${FEATURES[*]} --example bench_server" >&2
cargo build --profile bench -p examples "${FEATURES[@]}" --example bench_server >&2
BIN="$TARGET/release/examples/bench_server"
[ -x "$BIN" ] || { echo "no $BIN" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- redis -------------------------------------------------------------------------------
REDIS_URL=""
start_redis() {
  [ -n "$REDIS_PID" ] && return 0
  command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
  local port
  port="$(free_port)"
  taskset -c "$CLIENT_CPU" redis-server --port "$port" --bind 127.0.0.1 --save "" \
    --appendonly no >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  REDIS_URL="redis://127.0.0.1:$port"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "redis-server did not start" >&2; exit 1
}

# --- postgres / sqlite ----------------------------------------------------------------------
PG_URL=""
PG_BIN=""
# as_pg TOOL ARGS...: a Postgres tool, pinned to the client CPU (the server it starts inherits
# that), as `nobody` when root.
as_pg() {
  local tool="$1"; shift
  if [ "$(id -u)" = 0 ]; then
    taskset -c "$CLIENT_CPU" runuser -u nobody -- "$PG_BIN/$tool" "$@"
  else
    taskset -c "$CLIENT_CPU" "$PG_BIN/$tool" "$@"
  fi
}
start_postgres() {
  [ -n "$PG_URL" ] && return 0
  local initdb
  initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1 || true)"
  [ -n "$initdb" ] || initdb="$(command -v initdb || true)"
  [ -n "$initdb" ] || { echo "Postgres is not installed (no initdb)" >&2; exit 1; }
  PG_BIN="$(dirname "$initdb")"
  PG_DIR="$WORK/pg"
  mkdir -p "$PG_DIR"
  chmod 755 "$WORK"
  [ "$(id -u)" = 0 ] && chown -R nobody "$PG_DIR"
  as_pg initdb -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log" >&2; exit 1; }
  local port
  port="$(free_port)"
  as_pg pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_DIR -F -c max_connections=200" -w -t 30 start >&2
  PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
SQLITE_FILE="$WORK/sessions.db"

# The CPU ticks of the store's own processes (redis-server, or the postmaster and its children).
store_ticks() {
  local pids=()
  case "$1" in
    redis) pids=("$REDIS_PID") ;;
    postgres)
      local master
      master="$(head -1 "$PG_DIR/data/postmaster.pid")"
      pids=("$master" $(ps -o pid= --ppid "$master")) ;;
    *) echo ""; return ;;
  esac
  local total=0 pid
  for pid in "${pids[@]}"; do
    [ -r "/proc/$pid/stat" ] && total=$(( total + $(cpu_ticks "$pid") ))
  done
  echo "$total"
}

# --- one server ---------------------------------------------------------------------------
PORT=""
# start_server IMPL STORE LAZY [extra args...]; IMPL `cached`: ours with the near cache
start_server() {
  local impl="$1" store="$2" lazy="$3"; shift 3
  local args=(--impl "$impl" --store "$store")
  [ "$impl" = cached ] && args=(--impl ours --store "$store" --near-cache)
  [ "$lazy" = 1 ] && args+=(--lazy)
  [ "$store" = redis ] && args+=(--redis-url "$REDIS_URL")
  [ "$store" = postgres ] && args+=(--database-url "$PG_URL")
  [ "$store" = sqlite ] && args+=(--database-url "$SQLITE_FILE")
  PORT="$(free_port)"
  taskset -c "$SERVER_CPU" "$BIN" "${args[@]}" --port "$PORT" "$@" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/untouched"; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; echo "server died" >&2; exit 1; fi
    sleep 0.05
  done
  echo "server did not start" >&2; exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# The `id=...` pair of the cookie a login sets (a dummy of similar size without middleware).
login_cookie() {
  local impl="$1"
  if [ "$impl" = none ]; then
    echo "id=baselinebaselinebaselinebaselinebaselinebaselinebaselinebaselinebaselinebaselinebaseline"
    return
  fi
  curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/login" \
    | tr -d '\r' | awk 'tolower($1) == "set-cookie:" { split($2, a, ";"); print a[1]; exit }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# wrk's latency figure ("1.23ms", "456.00us", "1.01s") in microseconds.
to_us() {
  python3 -c 'import re, sys
m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", sys.argv[1])
print("" if not m else round(float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[m.group(2)], 1))' "$1"
}

# redis_commands ROUTE NAME ROUND REQUESTS: what redis-server did per request during the run
# (`INFO commandstats`, reset before it): each command's calls and the microseconds spent
# inside it (Redis's own timing: without reading, parsing and replying), as a table row.
redis_commands() {
  redis-cli -p "${REDIS_URL##*:}" INFO commandstats | tr -d '\r' | python3 -c 'import re, sys
route, name, rnd, n = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4] or 0)
stats = []
for line in sys.stdin:
    m = re.match(r"cmdstat_([^:]+):calls=(\d+),usec=(\d+)", line)
    if m and n:
        stats.append((int(m.group(3)) / n, int(m.group(2)) / n, m.group(1)))
stats.sort(reverse=True)
cells = ", ".join(f"{cmd} {calls:.2f} x = {usec:.2f}" for usec, calls, cmd in stats if calls >= 0.01)
print(f"| {route} | {name} | {rnd} | {cells} |")' "$1" "$2" "$3" "$4" >>"$WORK/commands.md"
}

# run_one STORE ROUTE IMPL LAZY ROUND
run_one() {
  local store="$1" route="$2" impl="$3" lazy="$4" round="$5"
  local name
  if [ "$impl" = none ]; then name="none"
  elif [ "$impl" = cached ]; then name="ours-$store-cached"
  else name="$impl-$store"; [ "$lazy" = 1 ] && name="$name-lazy"; fi
  start_server "$impl" "$store" "$lazy"
  local cookie header=() wrk_args=()
  cookie="$(login_cookie "$impl")"
  if [ -z "$cookie" ]; then echo "no cookie from $name" >&2; exit 1; fi
  if [ "$route" != login ] && [ "$route" != acquire ]; then
    header=(-H "Cookie: $cookie")
    wrk_args=("${header[@]}")
    if [ "$SESSIONS" -gt 1 ]; then
      # One session per in-flight request: wrk cycles through pre-formatted requests.
      {
        echo "local cookies = {"
        echo "  \"$cookie\","
        for _ in $(seq 2 "$SESSIONS"); do echo "  \"$(login_cookie "$impl")\","; done
        echo "}"
        echo "local requests, next = {}, 0"
        echo "init = function()"
        echo "  for i, cookie in ipairs(cookies) do requests[i] = wrk.format(nil, nil, { Cookie = cookie }) end"
        echo "end"
        echo "request = function() next = next % #requests + 1; return requests[next] end"
      } >"$WORK/sessions.lua"
      wrk_args=(-s "$WORK/sessions.lua")
    fi
  fi
  local url="http://127.0.0.1:$PORT/$route"
  local status
  status="$(curl -s -o /dev/null -w '%{http_code}' "${header[@]}" "$url")"
  if [ "$status" != 200 ]; then echo "$name /$route answered $status" >&2; exit 1; fi
  if [ "$WARMUP" != 0 ]; then
    taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "${wrk_args[@]}" "$url" >/dev/null
  fi
  local before after store_before store_after
  [ "$store" = redis ] && redis-cli -p "${REDIS_URL##*:}" CONFIG RESETSTAT >/dev/null
  store_before="$(store_ticks "$store")"
  before="$(cpu_ticks "$SERVER_PID")"
  taskset -c "$CLIENT_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    "${wrk_args[@]}" "$url" >"$WORK/wrk.txt"
  after="$(cpu_ticks "$SERVER_PID")"
  store_after="$(store_ticks "$store")"
  local rps requests p50 p99 errors hwm
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.txt")"
  requests="$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")"
  p50="$(to_us "$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.txt")")"
  p99="$(to_us "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")")"
  errors="$(awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }' "$WORK/wrk.txt")"
  hwm="$(status_kb "$SERVER_PID" VmHWM)"
  [ "$store" = redis ] && redis_commands "$route" "$name" "$round" "$requests"
  stop_server
  local cpu_us store_us=""
  if [ -n "$store_before" ]; then
    store_us="$(python3 -c 'import sys; t, n, hz = map(float, sys.argv[1:]); print(round(t * 1e6 / hz / n, 2) if n else "")' \
      "$((store_after - store_before))" "$requests" "$CLK_TCK")"
  fi
  cpu_us="$(python3 -c 'import sys; t, n, hz = map(float, sys.argv[1:]); print(round(t * 1e6 / hz / n, 2) if n else "")' \
    "$((after - before))" "$requests" "$CLK_TCK")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$store" "$route" "$name" "$round" "$rps" "$p50" "$p99" "$cpu_us" "$hwm" "$errors" "$store_us" >>"$RESULTS"
  printf '    %-24s %-10s round %s: %10s req/s  p50 %8s us  p99 %8s us  cpu %7s us/req  store cpu %7s us/req  hwm %s kB %s\n' \
    "$name" "$route" "$round" "$rps" "$p50" "$p99" "$cpu_us" "${store_us:--}" "$hwm" "$errors" >&2
}

machine_header() {
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# --- soak: RSS over N logins on the memory store -------------------------------------------
if [ "$SOAK" -gt 0 ]; then
  CHUNK=$(( SOAK / 10 ))
  [ "$CHUNK" -gt 0 ] || { echo "--soak wants at least 10 requests" >&2; exit 2; }
  start_server ours memory 0 --ttl-secs "$TTL_SECS"
  {
    echo "# Soak: $SOAK logins on our memory store, state TTL ${TTL_SECS}s"
    echo
    machine_header
    echo "- command: scripts/bench-load.sh --soak $SOAK --ttl-secs $TTL_SECS --connections $CONNECTIONS"
    echo
    echo "| chunk | requests so far | elapsed s | logins/s | VmRSS kB | VmHWM kB |"
    echo "|---:|---:|---:|---:|---:|---:|"
  } >"$WORK/soak.md"
  # wrk runs for a time, not a count: a 1 s calibration gives the rate, then each chunk runs
  # for about N/10 requests' worth of seconds, until N requests are done.
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d1s "http://127.0.0.1:$PORT/login" >"$WORK/wrk.txt"
  total="$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")"
  rate="$(awk '/^Requests\/sec:/ { print int($2) }' "$WORK/wrk.txt")"
  [ "${rate:-0}" -gt 0 ] || { echo "the server answered no request" >&2; exit 1; }
  chunk_secs=$(( (CHUNK + rate - 1) / rate ))
  echo "    calibration: $rate logins/s, $chunk_secs s per chunk" >&2
  start="$(date +%s)"
  chunk=0
  while [ "$total" -lt "$SOAK" ]; do
    chunk=$(( chunk + 1 ))
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${chunk_secs}s" "http://127.0.0.1:$PORT/login" >"$WORK/wrk.txt"
    total=$(( total + $(awk '/requests in/ { print $1 }' "$WORK/wrk.txt") ))
    rate=$(awk '/Requests\/sec/ { printf "%d", $2 }' "$WORK/wrk.txt")
    echo "| $chunk | $total | $(( $(date +%s) - start )) | $rate | $(status_kb "$SERVER_PID" VmRSS) | $(status_kb "$SERVER_PID" VmHWM) |" >>"$WORK/soak.md"
    tail -1 "$WORK/soak.md" >&2
  done
  stop_server
  python3 - "$WORK/soak.md" >>"$WORK/soak.md" <<'EOF'
import sys
rows = [line.split("|") for line in open(sys.argv[1]) if line.startswith("| ") and line[2].isdigit()]
requests = [int(row[2]) for row in rows]
rss = [int(row[5]) for row in rows]
hwm = [int(row[6]) for row in rows]
if len(rss) >= 3:
    growth = (rss[-1] - rss[1]) / rss[1] * 100
    print(f"\nVmRSS from the end of chunk 2 to the end: {rss[1]} kB -> {rss[-1]} kB ({growth:+.1f}%);"
          f" it follows the live set (logins/s x (TTL + up to 1 s of sweeping)).")
    peak = max(hwm)
    peak_chunk = hwm.index(peak)
    print(f"Peak RSS (VmHWM) {peak} kB, reached in chunk {peak_chunk + 1}; the"
          f" {requests[-1] - requests[peak_chunk]:,} requests after it did not raise it.")
EOF
  cp "$WORK/soak.md" "$OUT"
  cat "$OUT"
  echo "(written to $OUT)" >&2
  exit 0
fi

# --- the load runs -------------------------------------------------------------------------
case " $STORES " in *" redis "*) start_redis ;; esac
case " $STORES " in *" postgres "*) start_postgres ;; esac
for store in $STORES; do
  for route in $ROUTES; do
    sql=0
    case "$store" in postgres|sqlite) sql=1 ;; esac
    # `acquire` exists on the SQL stores only, and only in ours.
    if [ "$route" = acquire ] && [ "$sql" = 0 ]; then continue; fi
    # none, ours, (ours lazy), actix; the order flips every round (A/B/B/A) against drift.
    runs=("none:0" "ours:0")
    [ "$route" = acquire ] && runs=("ours:0")
    [ "$route" = untouched ] && runs+=("ours:1")
    [ "$store" = redis ] && runs+=("cached:0")
    [ "$store" != memory ] && [ "$sql" = 0 ] && runs+=("actix:0")
    if [ "$store" = redis ] && [ "$OURS_REDIS" = 0 ]; then
      runs=("${runs[@]/ours:0/}"); runs=("${runs[@]/ours:1/}"); runs=("${runs[@]/cached:0/}")
    fi
    for round in $(seq "$ROUNDS"); do
      order=("${runs[@]}")
      if [ $(( round % 2 )) = 0 ]; then
        order=(); for (( i=${#runs[@]}-1; i>=0; i-- )); do order+=("${runs[i]}"); done
      fi
      for run in "${order[@]}"; do
        [ -n "$run" ] || continue
        run_one "$store" "$route" "${run%%:*}" "${run##*:}" "$round"
      done
    done
  done
done

python3 - "$RESULTS" "$OURS_REDIS" >"$WORK/table.md" <<'EOF'
import statistics, sys
from collections import defaultdict

rows = defaultdict(list)
by_round = defaultdict(dict)
order = []
for line in open(sys.argv[1]):
    store, route, name, _round, rps, p50, p99, cpu, hwm, errors, store_cpu = line.rstrip("\n").split("\t")
    key = (store, route, name)
    if key not in rows:
        order.append(key)
    num = lambda text: float(text) if text else float("nan")
    rows[key].append((num(rps), num(p50), num(p99), num(cpu), num(hwm), errors.strip(), num(store_cpu)))
    by_round[key][_round] = num(rps)

def median(key, index):
    return statistics.median(run[index] for run in rows[key])

def fmt(value, digits=0):
    return "n/a" if value != value else f"{value:,.{digits}f}"

def ratio(a, b):
    return "n/a" if not b or a != a or b != b else f"{a / b:.2f}x"

def per_round(key, other):
    """ours / actix req/s of each round (runs of one round are neighbours in time)."""
    return ", ".join(f"{by_round[key][r] / by_round[other][r]:.2f}"
                     for r in sorted(by_round[key]) if by_round[other].get(r))

print("| store | route | server | req/s | p50 us | p99 us | CPU us/req | CPU above none | store CPU us/req | peak RSS kB | req/s vs none | req/s vs actix | CPU above none vs actix | vs actix by round |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for store, route, name in order:
    key = (store, route, name)
    rps, p50, p99, cpu, hwm = (median(key, i) for i in range(5))
    store_cpu = median(key, 6)
    base = (store, route, "none")
    actix = (store, route, f"actix-{store}")
    base_rps = median(base, 0) if base in rows else float("nan")
    base_cpu = median(base, 3) if base in rows else float("nan")
    above = cpu - base_cpu
    vs_actix = cpu_vs_actix = rounds = ""
    if name.startswith("ours") and actix in rows:
        vs_actix = ratio(rps, median(actix, 0))
        cpu_vs_actix = ratio(above, median(actix, 3) - base_cpu)
        rounds = per_round(key, actix)
    errors = "; ".join(sorted({run[5] for run in rows[key] if run[5]}))
    label = name + (f" ({errors})" if errors else "")
    print(f"| {store} | {route} | {label} | {fmt(rps)} | {fmt(p50, 1)} | {fmt(p99, 1)} | {fmt(cpu, 2)} "
          f"| {'' if name == 'none' else fmt(above, 2)} | {'' if store_cpu != store_cpu else fmt(store_cpu, 2)} | {fmt(hwm)} | {'' if name == 'none' else ratio(rps, base_rps)} "
          f"| {vs_actix} | {cpu_vs_actix} | {rounds} |")
if sys.argv[2] == "0":
    print("\nOur Redis store is not in this tree: ours-redis not measured.")
EOF

{
  echo "# Load run: ours vs actix-session 0.11 vs no session middleware"
  echo
  machine_header
  echo "- command: scripts/bench-load.sh --duration $DURATION --warmup $WARMUP --connections $CONNECTIONS --sessions $SESSIONS --threads $THREADS --rounds $ROUNDS --stores \"$STORES\" --routes \"$ROUTES\""
  echo "- server: bench_server, 1 worker, pinned to CPU $SERVER_CPU; wrk (and redis-server) pinned to CPU $CLIENT_CPU; medians over $ROUNDS round(s)"
  echo
  cat "$WORK/table.md"
  if [ -s "$WORK/commands.md" ]; then
    echo
    echo "Redis commands per request (\`INFO commandstats\`, reset before each measured run): calls and"
    echo "microseconds inside each command, as redis-server times them (reading, parsing and"
    echo "replying not included). A script's inner commands are listed on their own and are also"
    echo "part of its \`evalsha\` time."
    echo
    echo "| route | server | round | per request: command calls x = us |"
    echo "|---|---|---:|---|"
    cat "$WORK/commands.md"
  fi
} >"$OUT"
cat "$OUT"
echo "(written to $OUT)" >&2

# The chart: req/s medians per route and server.
if [ -n "$SVG" ]; then
  mkdir -p "$(dirname "$SVG")"
  python3 scripts/bench-chart.py "$RESULTS" "$SVG" "$(date -u '+%Y-%m-%d')" \
    "load average $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs"
fi
