#!/usr/bin/env bash
# Sync benchmarks against `huadan sandbox` in a separate process (release build).
#
#   crates/sync/bench/sync_bench.sh quota        # 100k Tencent CCC records at its 20 req/s quota
#   crates/sync/bench/sync_bench.sh throughput   # --no-limits, all five sources, records/s into SQLite
#   crates/sync/bench/sync_bench.sh memory       # 1,000,000 records, peak RSS of `huadan sync`
#
# Environment: HUADAN (binary, default target/release/huadan; an absolute path), DAYS, CPD (calls per day
# per vendor) override the dataset size; ONLY=<source> limits `memory` to one source;
# WRAP="heaptrack -o FILE" runs the sync under a wrapper. Everything listens on 127.0.0.1 only.
set -euo pipefail

mode="${1:-}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
bin="${HUADAN:-$root/target/release/huadan}"
[ -x "$bin" ] || { echo "build first: cargo build --release -p huadan" >&2; exit 2; }
work="$(mktemp -d)"
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

case "$mode" in
  quota)      days="${DAYS:-10}"; cpd="${CPD:-10000}"; limits="";            sources=(--source tencent-ccc) ;;
  throughput) days="${DAYS:-5}";  cpd="${CPD:-20000}"; limits="--no-limits"; sources=() ;;
  memory)     days="${DAYS:-10}"; cpd="${CPD:-23000}"; limits="--no-limits"; sources=(${ONLY:+--source $ONLY}) ;;
  *) echo "usage: $0 quota|throughput|memory" >&2; exit 2 ;;
esac

"$bin" sandbox --base-port 0 --seed 42 --days "$days" --calls-per-day "$cpd" $limits \
  --write-config "$work/huadan.toml" > "$work/sandbox.json" 2> "$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 100); do [ -s "$work/sandbox.json" ] && [ -s "$work/huadan.toml" ] && break; sleep 0.1; done
sleep 0.2

# Whole GMT+8 days: from the dataset's first day to today's midnight (Beijing), so
# the expected count is exact and whole-day vendors fetch no extras.
today="$(TZ=UTC-8 date +%F)"
since="$(TZ=UTC-8 date -d "$today - $days days" +%F)"
cd "$work"
cpu_of() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sandbox_cpu0=$(cpu_of "$sandbox_pid")
start=$(date +%s.%N)
/usr/bin/time -v ${WRAP:-} "$bin" --config huadan.toml sync "${sources[@]}" --since "$since" --until "$today" \
  > "$work/summary.txt" 2> "$work/sync.err" || { cat "$work/summary.txt" "$work/sync.err" >&2; exit 1; }
end=$(date +%s.%N)
sandbox_cpu=$(echo "$(cpu_of "$sandbox_pid") - $sandbox_cpu0" | bc -l)
cat "$work/summary.txt"

wall=$(echo "$end - $start" | bc -l)
rss_kb=$(grep "Maximum resident set size" "$work/sync.err" | awk '{print $NF}')
fetched=$(awk 'NR>1 {s+=$4} END {print s}' "$work/summary.txt")
requests=$(awk 'NR>1 {s+=$7} END {print s}' "$work/summary.txt")
printf 'dataset: %s days x %s calls/day/vendor, range %s .. %s (GMT+8)\n' "$days" "$cpd" "$since" "$today"
printf 'records: %s   requests: %s   wall: %.2f s   peak RSS: %.1f MB\n' "$fetched" "$requests" "$wall" "$(echo "$rss_kb/1024" | bc -l)"
sync_cpu=$(awk -F: '/User time|System time/ {s+=$2} END {print s}' "$work/sync.err")
printf 'CPU: sync %.1f s, sandbox %.1f s (µs per record: sync %.1f, sandbox %.1f)\n' "$sync_cpu" "$sandbox_cpu" \
  "$(echo "$sync_cpu * 1000000 / $fetched" | bc -l)" "$(echo "$sandbox_cpu * 1000000 / $fetched" | bc -l)"

case "$mode" in
  quota)
    port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tencent_ccc"]["endpoint"])' "$work/sandbox.json")
    stats=$(curl -s "$port/_huadan/sandbox/stats")
    echo "sandbox counters: $stats"
    limited=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["counters"].get("rate_limited",0))' "$stats")
    elapsed=$(awk '$1=="tencent-ccc" {sub("s","",$10); print $10}' "$work/summary.txt")
    floor=$(echo "$requests / 20" | bc -l)
    printf 'quota: %s requests in %.2f s (source time); floor %.2f s; ratio %.3f (target <= 1.05); RequestLimitExceeded: %s\n' \
      "$requests" "$elapsed" "$floor" "$(echo "$elapsed / $floor" | bc -l)" "$limited"
    ;;
  throughput)
    printf 'throughput: %.0f records/s end to end into SQLite (target >= 50000)\n' "$(echo "$fetched / $wall" | bc -l)"
    ;;
  memory)
    printf 'memory: peak RSS %.1f MB for %s records (target <= 150 MB); %.0f records/s\n' \
      "$(echo "$rss_kb/1024" | bc -l)" "$fetched" "$(echo "$fetched / $wall" | bc -l)"
    ;;
esac
