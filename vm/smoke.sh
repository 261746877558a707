#!/usr/bin/env bash
# vm/smoke.sh - checks the test VM provides what viba's tests need. Run: vm/run.sh vm/smoke.sh
#   /dev/video0  = vivid (capture), /dev/video20 = v4l2loopback "viba_cam",
#   /dev/video21 = v4l2loopback "viba_feed"; ffmpeg round trip through /dev/video21,
#   3 frames from vivid, an mmap-streaming round trip through /dev/video20 (v4l2-ctl),
#   POSIX shared memory on /dev/shm, writable /tmp and repository.
set -uo pipefail

fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(now_ms)

[ "${VIBA_IN_VM:-}" = 1 ] || fail "VIBA_IN_VM is not 1: run me with vm/run.sh vm/smoke.sh"
command -v ffmpeg >/dev/null || fail "ffmpeg not found"
command -v v4l2-ctl >/dev/null || fail "v4l2-ctl not found"
WORK=$(mktemp -d /tmp/smoke.XXXXXX) || fail "/tmp is not writable"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

# ---- mounts
for m in /proc /sys /dev /dev/shm /tmp; do
    mountpoint -q "$m" || fail "$m is not a mount point"
done
[ "$(stat -f -c %T /dev/shm)" = tmpfs ] || fail "/dev/shm is not tmpfs"
ok "mounts: /proc /sys /dev /dev/shm(tmpfs) /tmp"

# ---- shared memory
echo viba > /dev/shm/viba-smoke-file && [ "$(cat /dev/shm/viba-smoke-file)" = viba ] ||
    fail "cannot write /dev/shm"
rm -f /dev/shm/viba-smoke-file
if command -v python3 >/dev/null; then
    python3 - <<'EOF' || fail "POSIX shared memory (shm_open) does not work"
from multiprocessing import shared_memory
a = shared_memory.SharedMemory(create=True, size=4096, name="viba_smoke")
a.buf[0] = 42
b = shared_memory.SharedMemory(name="viba_smoke")
assert b.buf[0] == 42
b.close(); a.close(); a.unlink()
EOF
    ok "/dev/shm writable, shm_open/mmap shared between handles"
else
    ok "/dev/shm writable (python3 missing: shm_open not tested)"
fi

# ---- repository share is writable
probe=$(mktemp -p . .viba-smoke.XXXXXX) || fail "the repository ($PWD) is not writable"
rm -f "$probe"
ok "repository $PWD writable"

# ---- devices
info() { v4l2-ctl -d "$1" --info 2>&1; }
field() { sed -n "s/^[[:space:]]*$1[[:space:]]*: //p" | head -n1; }
for n in 0 20 21; do [ -c /dev/video$n ] || fail "/dev/video$n missing (have: $(ls /dev/video* 2>/dev/null | tr '\n' ' '))"; done
drv=$(info /dev/video0 | field "Driver name")
[ "$drv" = vivid ] || fail "/dev/video0 driver is '$drv', expected vivid"
ok "/dev/video0 is vivid"
check_loop() {  # $1 = device, $2 = expected card label
    local i d c
    i=$(info "$1"); d=$(echo "$i" | field "Driver name"); c=$(echo "$i" | field "Card type")
    [ "$d" = "v4l2 loopback" ] || fail "$1 driver is '$d', expected 'v4l2 loopback'"
    [ "$c" = "$2" ] || fail "$1 card is '$c', expected '$2'"
    ok "$1 is v4l2loopback '$c'"
}
check_loop /dev/video20 viba_cam
check_loop /dev/video21 viba_feed
grep -q 'Y' /sys/module/v4l2loopback/parameters/exclusive_caps 2>/dev/null ||
    fail "v4l2loopback exclusive_caps is not set: $(cat /sys/module/v4l2loopback/parameters/exclusive_caps 2>&1)"

# waits until $1 advertises Video Capture (i.e. a producer is streaming); $2 = producer pid
wait_capture() {
    local i
    for i in $(seq 1 150); do
        v4l2-ctl -d "$1" --info 2>/dev/null | grep -A3 'Device Caps' | grep -q 'Video Capture' && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
expect_size() {  # $1 = file, $2 = bytes, $3 = what
    local s
    s=$(stat -c %s "$1" 2>/dev/null || echo 0)
    [ "$s" = "$2" ] || fail "$3: got $s bytes, expected $2"
}

# ---- ffmpeg round trip through /dev/video21 (write() producer)
T=$(now_ms)
ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=10 \
    -t 60 -pix_fmt yuyv422 -f v4l2 /dev/video21 2>"$WORK/writer.log" &
WPID=$!; PIDS+=("$WPID")
wait_capture /dev/video21 "$WPID" ||
    fail "ffmpeg writer did not start streaming to /dev/video21: $(cat "$WORK/writer.log")"
timeout 60 ffmpeg -nostdin -hide_banner -loglevel error -f v4l2 -i /dev/video21 -frames:v 3 \
    -f rawvideo -pix_fmt yuyv422 "$WORK/feed.yuv" 2>"$WORK/reader.log" ||
    fail "ffmpeg could not read /dev/video21: $(cat "$WORK/reader.log")"
expect_size "$WORK/feed.yuv" $((3 * 320 * 240 * 2)) "3 frames 320x240 yuyv422 from /dev/video21"
fmt=$(v4l2-ctl -d /dev/video21 --get-fmt-video 2>&1 | tr -s ' \t' ' ' | grep -E 'Width/Height|Pixel Format' | tr '\n' ' ')
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
ok "ffmpeg round trip via /dev/video21: 3 frames 320x240 YUYV ($fmt) in $(( $(now_ms) - T )) ms"

# ---- vivid capture
T=$(now_ms)
timeout 60 ffmpeg -nostdin -hide_banner -loglevel error -f v4l2 -input_format yuyv422 -video_size 320x180 \
    -i /dev/video0 -frames:v 3 -f rawvideo "$WORK/vivid.yuv" 2>"$WORK/vivid.log" ||
    fail "ffmpeg could not read /dev/video0: $(cat "$WORK/vivid.log")"
expect_size "$WORK/vivid.yuv" $((3 * 320 * 180 * 2)) "3 frames 320x180 yuyv422 from vivid"
ok "vivid: 3 frames 320x180 YUYV in $(( $(now_ms) - T )) ms"

# ---- mmap streaming round trip through /dev/video20 (how viba writes its output)
T=$(now_ms)
v4l2-ctl -d /dev/video20 --set-fmt-video-out=width=320,height=240,pixelformat=YUYV \
    --stream-out-mmap=2 --stream-count=100000 --stream-sleep=4 >"$WORK/mmapw.log" 2>&1 &
MPID=$!; PIDS+=("$MPID")
wait_capture /dev/video20 "$MPID" ||
    fail "v4l2-ctl mmap producer did not start on /dev/video20: $(cat "$WORK/mmapw.log")"
timeout 60 v4l2-ctl -d /dev/video20 --stream-mmap=2 --stream-count=3 --stream-to="$WORK/cam.yuv" \
    --verbose >"$WORK/mmapr.log" 2>&1 || fail "mmap capture from /dev/video20 failed: $(cat "$WORK/mmapr.log")"
# v4l2loopback hands the reader whatever bytesused the producer queued; v4l2-ctl's producer
# queues the page-aligned buffer length (155648), so check "at least one frame" per buffer.
used=$(sed -n 's/.*cap dqbuf:.*bytesused: *\([0-9]*\).*/\1/p' "$WORK/mmapr.log")
[ "$(echo "$used" | grep -c .)" = 3 ] || fail "expected 3 dequeued buffers from /dev/video20: $(cat "$WORK/mmapr.log")"
for u in $used; do [ "$u" -ge $((320 * 240 * 2)) ] || fail "short frame ($u bytes) from /dev/video20"; done
kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null
ok "mmap streaming round trip via /dev/video20 in $(( $(now_ms) - T )) ms"

echo "SMOKE OK ($(( $(now_ms) - T0 )) ms)"
