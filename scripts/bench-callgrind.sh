#!/usr/bin/env bash
# Instructions per request under callgrind (deterministic, so usable on a loaded machine):
# ours against actix-session 0.11 against no middleware, per route.
#
#   scripts/bench-callgrind.sh                                   # every mode and route
#   scripts/bench-callgrind.sh --modes "baseline ours-cookie-private actix-cookie-private" --routes read
#   scripts/bench-callgrind.sh --annotate ours-cookie-private:read   # + top functions
#   scripts/bench-callgrind.sh --state-kib 32 --modes "baseline ours-redis-cached actix-redis"
#                                # a ~32 KiB state (256 small entries); default ~0.1 KiB
#
# For each mode and route it runs the `callgrind` bench driver once: set-up, a login, 200
# warm-up requests, then N measured requests between two marker functions; callgrind zeroes
# its counters at the first marker and dumps at the second, so the dump is exactly the N
# requests (runtime and, for Redis, the connection's driver task included) and Ir/request is
# its total / N. Repeated runs agree within about 1%. "above baseline" subtracts the no-middleware figure of the same route, and the
# ratio divides ours by actix-session's. Redis modes start their own redis-server (not
# traced). Results: a Markdown table on stdout and in --out (default $TARGET/bench-callgrind-DATE.md).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=5000
MODES="baseline ours-cookie-signed actix-cookie-signed ours-cookie-private actix-cookie-private ours-memory ours-memory-bound ours-redis ours-redis-cached actix-redis"
ROUTES="read write login untouched"
ANNOTATE=""
OUT=""
STATE_NOTE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT="$2"; shift 2 ;;
    --modes) MODES="$2"; shift 2 ;;
    --routes) ROUTES="$2"; shift 2 ;;
    --annotate) ANNOTATE="$ANNOTATE $2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --state-kib) export BENCH_STATE_KIB="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh --bench >&2
TARGET="${CARGO_TARGET_DIR:-target}"
OUT="${OUT:-$TARGET/bench-callgrind-$(date -u +%Y%m%dT%H%M%SZ).md}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

FEATURES=()
if grep -qE "^(pub(\(crate\))? )?mod redis;" session/src/storage/mod.rs; then
  FEATURES=(--features redis-session)
else
  echo "    (no Redis store of ours in this tree: ours-redis skipped)" >&2
fi
cargo bench -p session "${FEATURES[@]}" --bench callgrind --no-run >&2
[ -n "${BENCH_STATE_KIB:-}" ] && STATE_NOTE=" --state-kib $BENCH_STATE_KIB"
BIN="$(cargo bench -p session "${FEATURES[@]}" --bench callgrind --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "callgrind" and m.get("executable"):
        print(m["executable"])')"
[ -x "$BIN" ] || { echo "no callgrind driver built" >&2; exit 1; }

# instructions MODE ROUTE COUNT -> Ir of the COUNT measured requests (empty if the mode is
# not supported by this build); the profile stays in $WORK/cg.MODE.ROUTE.COUNT.1
instructions() {
  local file="$WORK/cg.$1.$2.$3"
  if ! valgrind --tool=callgrind --callgrind-out-file="$file" \
      --zero-before='*callgrind_start_marker*' --dump-before='*callgrind_stop_marker*' \
      "$BIN" "$1" "$2" "$3" >/dev/null 2>"$WORK/vg.log"; then
    grep -q "not supported" "$WORK/vg.log" && return 0
    cat "$WORK/vg.log" >&2; exit 1
  fi
  awk '/^summary:/ { print $2 }' "$file.1"
}

declare -A PER
echo "| route | mode | Ir/request | above baseline | vs actix-session (above baseline) |" >"$WORK/table.md"
echo "|---|---|---:|---:|---:|" >>"$WORK/table.md"
for route in $ROUTES; do
  for mode in $MODES; do
    modes=("$mode")
    # The route that never touches the session: ours also lazy (a bound session has no lazy mode).
    [ "$route" = untouched ] && [[ "$mode" == ours-* ]] && [[ "$mode" != *-bound ]] && modes+=("$mode-lazy")
    for m in "${modes[@]}"; do
      total="$(instructions "$m" "$route" "$COUNT")"
      [ -n "$total" ] || continue
      PER["$m/$route"]=$(( total / COUNT ))
      echo "    $route/$m: ${PER["$m/$route"]} Ir/request" >&2
    done
  done
done
for route in $ROUTES; do
  base="${PER["baseline/$route"]:-}"
  for mode in $MODES; do
    for m in "$mode" "$mode-lazy"; do
      value="${PER["$m/$route"]:-}"
      [ -n "$value" ] || continue
      above="" ratio=""
      if [ -n "$base" ] && [ "$m" != baseline ]; then
        above=$(( value - base ))
        store="${m#ours-}"; store="${store%-lazy}"
        actix="${PER["actix-$store/$route"]:-}"
        if [[ "$m" == ours-* ]] && [ -n "$actix" ] && [ $(( actix - base )) -gt 0 ]; then
          ratio="$(python3 -c "print(f'{$above / ($actix - $base):.2f}')")"
        fi
      fi
      echo "| $route | $m | $value | $above | $ratio |" >>"$WORK/table.md"
    done
  done
done

{
  echo "# Callgrind: instructions per request (in-process, current-thread actix system)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(valgrind --version); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- command: scripts/bench-callgrind.sh --count $COUNT$STATE_NOTE; per request = Ir of the N = $COUNT measured requests / N"
  echo
  cat "$WORK/table.md"
  for spec in $ANNOTATE; do
    # callgrind_annotate misreads the marker-bracketed dump (all cost lands on main), so the
    # profile is a plain run of 4N requests, where set-up and warm-up are a few percent.
    m="${spec%%:*}" route="${spec##*:}" count=$(( 4 * COUNT ))
    file="$WORK/profile.$m.$route"
    valgrind --tool=callgrind --callgrind-out-file="$file" "$BIN" "$m" "$route" "$count" >/dev/null 2>&1
    echo
    echo "## Top functions by self cost: $m, $route ($count requests, plus set-up)"
    echo
    echo "Per request: divide by $count. Inlined code is listed under the file it came from."
    echo
    echo '```'
    { callgrind_annotate --threshold=90 "$file" 2>/dev/null || true; } \
      | sed -n '/file:function/,$p' | sed -n '3,42p' \
      | sed -e 's|/root/.cargo/registry/src/[^/]*/||' -e 's|/rustc/[0-9a-f]*/||' -e 's| \[/[^]]*\]$||' | cut -c1-200
    echo '```'
  done
} >"$OUT"
cat "$OUT"
echo "(written to $OUT)" >&2
