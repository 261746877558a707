#!/usr/bin/env bash
# The V4L2 integration tests (systest/tests/devices.rs, v4l2.rs and clients.rs) on real devices: builds the workspace
# and the test binary here, then runs it inside the QEMU guest of vm/ (vivid camera at
# /dev/video0, v4l2loopback at /dev/video20 and /dev/video21). On the host those tests skip.
#
#   scripts/vm-test.sh                 # all V4L2 tests
#   scripts/vm-test.sh a_person_on      # a filter, like cargo test; extra args go to the binary
set -euo pipefail
cd "$(dirname "$0")/.."
VIBA_SETUP_FFMPEG=1 VIBA_SETUP_CLIENTS=1 ./scripts/setup.sh >/dev/null
cargo build --workspace --bins
# Path of a system-test binary (viba-systest) (built here, run in the guest).
test_exe() {
  cargo test -p viba-systest --test "$1" --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == sys.argv[1]:
        print(m["executable"])' "$1"
}
devices=$(test_exe devices)
v4l2=$(test_exe v4l2)
clients=$(test_exe clients)
[ -n "$devices" ] && [ -n "$v4l2" ] && [ -n "$clients" ] || { echo "vm-test.sh: the test binaries were not built" >&2; exit 1; }
export ORT_DYLIB_PATH="$PWD/.ort/onnxruntime/capi/libonnxruntime.so.1.31.1"
export VIBA_VM_TIMEOUT="${VIBA_VM_TIMEOUT:-1500}"
# --list-devices and doctor against the real drivers, then the pipeline tests with ffmpeg as the
# application, then with the browsers and GStreamer (a filter picks tests of both binaries).
vm/run.sh "$devices" --test-threads 1
vm/run.sh "$v4l2" --test-threads 1 "$@"
exec vm/run.sh "$clients" --test-threads 1 "$@"
