#!/usr/bin/env bash
# Soak: runs the whole pipeline for a long time (default 1 h) and samples, for the supervisor and
# each worker, its resident memory (VmRSS), open file descriptors and threads, plus the restarts
# `ctl status` counts. Prints one line per sample and a verdict: growth of memory or descriptors
# between the first sample after the warm-up and the last one is reported as GROWTH (exit 1).
#
#   scripts/soak.sh [--seconds N] [--every S] [--size WxH]
#
# The input is the bundled portrait, moving, paced at 30 fps; the output goes nowhere (null sink);
# the background is the default blur, so every picture step runs. Results: docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=3600 every=30 size=1280x720
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    *) echo "soak.sh: unknown argument $1 (use --seconds N, --every S, --size WxH)" >&2; exit 2 ;;
  esac
done
case $size in
  *x*) width=${size%x*} height=${size#*x} ;;
  *) echo "soak.sh: --size $size is not WxH" >&2; exit 2 ;;
esac
./scripts/setup.sh >/dev/null
cargo build --release --workspace --bins >/dev/null 2>&1 || cargo build --release --workspace --bins

work=$(mktemp -d "${TMPDIR:-/tmp}/viba-soak.XXXXXX")
instance="soak$$"
export XDG_RUNTIME_DIR=$work
cat >"$work/viba.json" <<EOF
{
  "instance": "$instance",
  "input": { "source": "image", "path": "$PWD/testdata/astronaut.png", "width": $width,
             "height": $height, "fps": 30, "motion": true },
  "output": { "sink": "null" },
  "background": { "blur": 12 },
  "segmentation": { "model": "auto" }
}
EOF
target/release/viba-supervisor --config "$work/viba.json" 2>"$work/supervisor.log" &
sup=$!
cleanup() {
  kill "$sup" 2>/dev/null || true
  wait "$sup" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ctl() { target/release/viba-supervisor ctl --instance "$instance" "$@"; }
for _ in $(seq 1 600); do
  ctl --json status >/dev/null 2>&1 && break
  kill -0 "$sup" 2>/dev/null || { echo "soak: viba did not start:"; cat "$work/supervisor.log"; exit 2; }
  sleep 0.1
done
pid_of() { ctl --json status | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(next((s['pid'] or 0) for s in r['stages'] if s['stage'] == '$1'))" 2>/dev/null || echo 0; }
restarts() { ctl --json status | python3 -c "
import json, sys
print(sum(s['restarts'] for s in json.load(sys.stdin)['stages']))" 2>/dev/null || echo '?'; }
sample() { # pid -> "rss_kib fds threads"
  local p=$1
  if [ "$p" = 0 ] || [ ! -d "/proc/$p" ]; then echo "- - -"; return; fi
  local rss threads fds
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
  threads=$(awk '/^Threads:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
  fds=$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  # Gone while sampled.
  if [ -z "$rss" ] || [ -z "$threads" ]; then echo "- - -"; return; fi
  echo "$rss $fds $threads"
}

echo "soak: ${seconds} s at ${width}x${height}, a sample every ${every} s; machine: $(lscpu | sed -n 's/^Model name: *//p'); $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%7s  %-22s %-22s %-22s %-22s %s\n' "t (s)" "supervisor rss/fd/thr" "capture rss/fd/thr" \
  "segmenter rss/fd/thr" "compositor rss/fd/thr" "restarts"
start=$(date +%s)
first="" last=""
warmup=$(( seconds / 10 < 60 ? seconds / 10 : 60 ))
while :; do
  now=$(( $(date +%s) - start ))
  line=$(sample "$sup")
  row=("$line")
  for stage in capture segmenter compositor; do
    s=$(sample "$(pid_of $stage)")
    line="$line $s"
    row+=("$s")
  done
  r=$(restarts)
  printf '%7d  %-22s %-22s %-22s %-22s %s\n' "$now" "${row[0]// //}" "${row[1]// //}" \
    "${row[2]// //}" "${row[3]// //}" "$r"
  if [ -z "$first" ] && [ "$now" -ge "$warmup" ]; then first=$line; fi
  last=$line
  [ "$now" -ge "$seconds" ] && break
  sleep "$every"
done

# Verdict: per process, memory may move by 2 % or 2 MiB (allocator noise), descriptors not at all.
verdict=0
set -- $first
a=("$@")
set -- $last
b=("$@")
names=(supervisor capture segmenter compositor)
for i in 0 1 2 3; do
  r0=${a[$((i * 3))]} r1=${b[$((i * 3))]} f0=${a[$((i * 3 + 1))]} f1=${b[$((i * 3 + 1))]}
  if [ "$r0" = - ] || [ "$r1" = - ] || [ "$f0" = - ] || [ "$f1" = - ]; then
    echo "soak: ${names[$i]}: not running at the first or the last sample"; verdict=1; continue
  fi
  growth=$(( r1 - r0 ))
  allowed=$(( r0 / 50 > 2048 ? r0 / 50 : 2048 ))
  if [ "$growth" -gt "$allowed" ] || [ "$f1" -gt "$f0" ]; then
    echo "soak: GROWTH ${names[$i]}: rss ${r0} -> ${r1} KiB, fds ${f0} -> ${f1}"; verdict=1
  else
    echo "soak: ${names[$i]}: rss ${r0} -> ${r1} KiB, fds ${f0} -> ${f1}: no growth"
  fi
done
exit $verdict
