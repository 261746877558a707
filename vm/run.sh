#!/usr/bin/env bash
# vm/run.sh [--] CMD [ARGS...]
#
# Boots a Debian 6.1 kernel under QEMU (TCG) with vivid (/dev/video0) and v4l2loopback
# (/dev/video20 "viba_cam", /dev/video21 "viba_feed") and runs CMD in it as root, in the
# repository root, with VIBA_IN_VM=1. The guest sees the host's / read-only (with a tmpfs
# overlay, so it can write anywhere) and the repository read-write at the same path, so
# host-built binaries under target/ run unchanged. CMD's stdout/stderr are streamed to
# ours; the exit status is CMD's.
#
# Exit status: CMD's status; 124 on timeout; 125 when the VM failed before/after CMD.
#
# Environment:
#   VIBA_VM_TIMEOUT    watchdog in seconds (default 600); QEMU is killed when it expires
#   VIBA_VM_MEM        guest memory (default 2G)       VIBA_VM_SMP  vCPUs (default 2)
#   VIBA_VM_MACHINE    QEMU machine (default q35: ~1 s faster to boot than pc here)
#   VIBA_VM_CPU        QEMU CPU model (default Westmere: SSE4.2 without AVX. With AVX2/FMA offered
#                      (-cpu max), ONNX Runtime takes its AVX2/FMA kernels, which TCG emulates
#                      10-15x slower: a model run then takes 4-7 s in the guest; see vm/README.md)
#   VIBA_VM_CACHE      cache folder (see vm/setup.sh)
#   VIBA_VM_VIVID_ARGS     vivid parameters (default: n_devs=1 node_types=0x1)
#   VIBA_VM_LOOPBACK_ARGS  v4l2loopback parameters
#                          (default: devices=2 video_nr=20,21 card_label=viba_cam,viba_feed exclusive_caps=1,1)
#   VIBA_VM_SKIP_MODULES   space-separated module names not to load at boot (e.g. v4l2loopback,
#                          to modprobe it yourself with other parameters)
#   VIBA_VM_PASSENV    extra variable names to pass into the guest (RUST_*, ORT_*, VIBA_* always are)
#   VIBA_VM_APPEND     extra kernel command line (e.g. loglevel=7 for a verbose console log)
#   VIBA_VM_KEEP=1     keep the run folder (console log etc.) and print its path
#   VIBA_VM_QUIET=1    do not print the one-line timing summary on stderr
set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$VM_DIR/.." && pwd -P)
TIMEOUT=${VIBA_VM_TIMEOUT:-600}

msg() { printf '[viba-vm] %s\n' "$*" >&2; }

[ "${1:-}" = "--" ] && shift
if [ $# -eq 0 ]; then
    echo "usage: vm/run.sh [--] CMD [ARGS...]" >&2
    exit 2
fi
if [ "${VIBA_IN_VM:-}" = 1 ]; then
    # Already inside the VM: just run it.
    cd "$REPO" && exec "$@"
fi

t_start=$(date +%s%N)
BOOTENV=$("$VM_DIR/setup.sh") || { msg "setup failed"; exit 125; }
# shellcheck disable=SC1090
. "$BOOTENV"
t_setup=$(date +%s%N)

RUN=$(mktemp -d "${TMPDIR:-/tmp}/viba-vm.XXXXXX") || exit 125
QPID=
cleanup() {
    [ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null
    if [ "${VIBA_VM_KEEP:-0}" = 1 ]; then msg "run folder kept: $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- per-run config read by the guest's /init (sourced by busybox sh)
sq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
    echo "REPO=$(sq "$REPO")"
    echo "MODDIR=$(sq "$VIBA_VM_MODDIR")"
    echo "VIVID_ARGS=$(sq "${VIBA_VM_VIVID_ARGS:-n_devs=1 node_types=0x1}")"
    echo "LOOPBACK_ARGS=$(sq "${VIBA_VM_LOOPBACK_ARGS:-devices=2 video_nr=20,21 card_label=viba_cam,viba_feed exclusive_caps=1,1}")"
    echo "SKIP_MODULES=$(sq "${VIBA_VM_SKIP_MODULES:-}")"
} > "$RUN/config"

# ---- the command, run by bash in the guest
{
    echo "cd $(printf '%q' "$REPO") || exit 125"
    names=$(compgen -e | grep -E '^(RUST_|ORT_|VIBA_)' | grep -vx 'VIBA_IN_VM' || true)
    for n in $names ${VIBA_VM_PASSENV:-}; do
        [ -n "${!n+x}" ] && printf 'export %s=%q\n' "$n" "${!n}"
    done
    printf 'exec'; printf ' %q' "$@"; printf '\n'
} > "$RUN/cmd.sh"
: > "$RUN/stdout"; : > "$RUN/stderr"; : > "$RUN/console.log"

esc() { printf '%s' "${1//,/,,}"; }   # QEMU option values: ',' is written ',,'
APPEND="console=ttyS0 loglevel=4 panic=-1 rdinit=/init mitigations=off tsc=reliable no_timer_check ${VIBA_VM_APPEND:-}"

t_qemu=$(date +%s%N)
qemu-system-x86_64 \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -machine "${VIBA_VM_MACHINE:-q35}" -accel tcg,thread=multi -cpu "${VIBA_VM_CPU:-Westmere}" \
    -smp "${VIBA_VM_SMP:-2}" -m "${VIBA_VM_MEM:-2G}" -rtc base=utc \
    -kernel "$VIBA_VM_KERNEL" -initrd "$VIBA_VM_INITRD" -append "$APPEND" \
    -serial "file:$RUN/console.log" \
    -virtfs "local,path=/,mount_tag=viba_root,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$(esc "$REPO"),mount_tag=viba_repo,security_model=none,multidevs=remap" \
    -virtfs "local,path=$(esc "$RUN"),mount_tag=viba_run,security_model=none" \
    </dev/null >"$RUN/qemu.log" 2>&1 &
QPID=$!

# Stream the command's output while the VM runs (tail exits once QEMU has gone).
tail -n +1 -s 0.2 -f --pid="$QPID" "$RUN/stdout" &
T1=$!
tail -n +1 -s 0.2 -f --pid="$QPID" "$RUN/stderr" >&2 &
T2=$!

# Watchdog.
timed_out=0
deadline=$(( $(date +%s) + TIMEOUT ))
while kill -0 "$QPID" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        timed_out=1
        kill -9 "$QPID" 2>/dev/null
        break
    fi
    sleep 0.2
done
wait "$QPID" 2>/dev/null
qrc=$?
QPID=
wait "$T1" "$T2" 2>/dev/null
t_end=$(date +%s%N)

show_console() {
    msg "---- last 40 lines of the guest console ($1) ----"
    tail -n 40 "$RUN/console.log" >&2
    if [ -s "$RUN/qemu.log" ]; then msg "---- qemu output ----"; tail -n 20 "$RUN/qemu.log" >&2; fi
    msg "----"
}

if [ "$timed_out" = 1 ]; then
    msg "TIMEOUT: killed QEMU after ${TIMEOUT}s (VIBA_VM_TIMEOUT)"
    show_console timeout
    exit 124
fi
if [ ! -f "$RUN/rc" ]; then
    [ -f "$RUN/init-error" ] && msg "guest init failed: $(cat "$RUN/init-error")"
    msg "the VM exited (qemu status $qrc) without reporting the command's exit status"
    show_console "no exit status"
    exit 125
fi
rc=$(cat "$RUN/rc")
case $rc in ''|*[!0-9]*) msg "bad exit status file: '$rc'"; exit 125;; esac

if [ "${VIBA_VM_QUIET:-0}" != 1 ]; then
    ms() { echo $(( ($1) / 1000000 )); }
    mtime_ns() { local t; t=$(stat -c %.9Y "$1" 2>/dev/null) || { echo 0; return; }; echo "${t/./}"; }
    t_cmd=$(mtime_ns "$RUN/boot_uptime"); t_rc=$(mtime_ns "$RUN/rc")
    msg "exit $rc; kernel $VIBA_VM_ABI; setup $(ms "t_setup - t_start") ms, qemu start to command start $(ms "t_cmd - t_qemu") ms," \
        "command $(ms "t_rc - t_cmd") ms, total $(ms "t_end - t_start") ms"
fi
if [ "$rc" != 0 ]; then show_console "command failed with $rc"; fi
exit "$rc"
