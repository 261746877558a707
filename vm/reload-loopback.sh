#!/usr/bin/env bash
# vm/reload-loopback.sh [PARAMS...] - inside the test VM: unload and reload v4l2loopback.
#
# Needed after a producer that used write() (e.g. `ffmpeg -f v4l2 /dev/videoN`) has exited:
# v4l2loopback 0.12.7 with exclusive_caps=1 then advertises neither output nor capture and
# VIDIOC_G_FMT fails with EINVAL until the module is reloaded. Every device must be closed
# (otherwise rmmod reports "Module v4l2loopback is in use").
# Without PARAMS the boot-time parameters are used (VIBA_VM_LOOPBACK_ARGS / vm/run.sh default).
set -euo pipefail
[ "${VIBA_IN_VM:-}" = 1 ] || { echo "reload-loopback.sh: only inside the VM (vm/run.sh)" >&2; exit 2; }
if [ $# -eq 0 ]; then
    LOOPBACK_ARGS=
    # shellcheck disable=SC1091
    . /run/viba-vm/config
    # shellcheck disable=SC2086
    set -- $LOOPBACK_ARGS
fi
if grep -q '^v4l2loopback ' /proc/modules; then
    for i in $(seq 1 50); do
        rmmod v4l2loopback 2>/dev/null && break
        [ "$i" = 50 ] && { rmmod v4l2loopback; exit 1; }
        sleep 0.1
    done
fi
modprobe v4l2loopback "$@"
# udev does not run in the VM: devtmpfs creates the nodes; wait for them.
for nr in $(printf '%s\n' "$@" | sed -n 's/^video_nr=//p' | tr ',' ' '); do
    for i in $(seq 1 50); do [ -c "/dev/video$nr" ] && break; sleep 0.1; done
    [ -c "/dev/video$nr" ] || { echo "reload-loopback.sh: /dev/video$nr did not appear" >&2; exit 1; }
done
