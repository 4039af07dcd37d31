#!/usr/bin/env bash
# Instructions per request under callgrind (deterministic, so usable on a loaded machine):
# ours against actix-session 0.11 against no middleware, per route.
#
#   scripts/bench-callgrind.sh                                   # every mode and route
#   scripts/bench-callgrind.sh --modes "baseline ours-cookie-private actix-cookie-private" --routes read
#   scripts/bench-callgrind.sh --annotate ours-cookie-private:read   # + top functions
#
# For each mode and route it runs the `callgrind` bench driver twice, with N and 2N requests
# after the same warm-up, and reports (Ir(2N) - Ir(N)) / N: process start, set-up and login
# cancel out. "above baseline" subtracts the no-middleware figure of the same route, and the
# ratio divides ours by actix-session's. Redis modes start their own redis-server (not
# traced). Results: a Markdown table on stdout and in --out (default $TARGET/bench-callgrind-DATE.md).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=2000
MODES="baseline ours-cookie-signed actix-cookie-signed ours-cookie-private actix-cookie-private ours-memory ours-redis actix-redis"
ROUTES="read write login untouched"
ANNOTATE=""
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT="$2"; shift 2 ;;
    --modes) MODES="$2"; shift 2 ;;
    --routes) ROUTES="$2"; shift 2 ;;
    --annotate) ANNOTATE="$ANNOTATE $2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

command -v valgrind >/dev/null || {
  echo "==> installing valgrind" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >&2
}
TARGET="${CARGO_TARGET_DIR:-target}"
OUT="${OUT:-$TARGET/bench-callgrind-$(date -u +%Y%m%dT%H%M%SZ).md}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

FEATURES=()
if cargo bench -p session --features redis-session --bench callgrind --no-run 2>"$WORK/build.log"; then
  FEATURES=(--features redis-session)
else
  echo "    (no Redis store of ours in this tree: ours-redis skipped)" >&2
fi
BIN="$(cargo bench -p session "${FEATURES[@]}" --bench callgrind --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "callgrind" and m.get("executable"):
        print(m["executable"])')"
[ -x "$BIN" ] || { echo "no callgrind driver built" >&2; exit 1; }

# instructions MODE ROUTE COUNT -> total Ir of one run (empty if the mode is not supported)
instructions() {
  local file="$WORK/cg.$1.$2.$3"
  if ! valgrind --tool=callgrind --callgrind-out-file="$file" "$BIN" "$1" "$2" "$3" >/dev/null 2>"$WORK/vg.log"; then
    grep -q "not supported" "$WORK/vg.log" && return 0
    cat "$WORK/vg.log" >&2; exit 1
  fi
  awk '/^summary:/ { print $2 }' "$file"
}

declare -A PER
echo "| route | mode | Ir/request | above baseline | vs actix-session (above baseline) |" >"$WORK/table.md"
echo "|---|---|---:|---:|---:|" >>"$WORK/table.md"
for route in $ROUTES; do
  for mode in $MODES; do
    modes=("$mode")
    # The route that never touches the session: ours also lazy.
    [ "$route" = untouched ] && [[ "$mode" == ours-* ]] && modes+=("$mode-lazy")
    for m in "${modes[@]}"; do
      small="$(instructions "$m" "$route" "$COUNT")"
      [ -n "$small" ] || continue
      large="$(instructions "$m" "$route" $(( 2 * COUNT )))"
      PER["$m/$route"]=$(( (large - small) / COUNT ))
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
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(valgrind --version)"
  echo "- command: scripts/bench-callgrind.sh --count $COUNT; per request = (Ir(2N) - Ir(N)) / N, N = $COUNT"
  echo
  cat "$WORK/table.md"
  for spec in $ANNOTATE; do
    m="${spec%%:*}" route="${spec##*:}"
    file="$WORK/cg.$m.$route.$(( 2 * COUNT ))"
    [ -f "$file" ] || instructions "$m" "$route" $(( 2 * COUNT )) >/dev/null
    echo
    echo "## Top functions, $m $route ($(( 2 * COUNT )) requests + set-up, inclusive of nothing: self cost)"
    echo
    echo '```'
    callgrind_annotate --threshold=90 "$file" 2>/dev/null | sed -n '/^Ir/,$p' | head -45 | cut -c1-200
    echo '```'
  done
} >"$OUT"
cat "$OUT"
echo "(written to $OUT)" >&2
