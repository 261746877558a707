#!/bin/busybox sh
# PID 1 of the viba test VM (copied into the initramfs by vm/setup.sh as /init).
#
# 1. load virtio + 9p + overlay modules, mount the three 9p shares that vm/run.sh exports:
#      viba_run   the per-run folder (config, cmd.sh, stdout, stderr, rc)   read-write
#      viba_root  the host's /                                              read-only
#      viba_repo  the repository, mounted at its host path                  read-write
# 2. build /newroot = overlay(host / read-only, tmpfs), mount proc/sys/dev/dev/shm/tmp/run
# 3. load vivid and v4l2loopback with the parameters from the run config
# 4. chroot /newroot and run /run/viba-vm/cmd.sh; write its exit status to viba_run/rc
# 5. reboot -f (QEMU runs with -no-reboot, so it exits)
/bin/busybox mkdir -p /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

RUNSHARE=/share/run
OPTS9P="trans=virtio,version=9p2000.L,msize=512000"

stamp() { cut -d' ' -f1 /proc/uptime; }
say() { echo "viba-vm[$(stamp)]: $*"; }
finish() {
    sync
    reboot -f
    echo o > /proc/sysrq-trigger
    sleep 10
}
die() {
    say "FATAL: $*"
    if mountpoint -q "$RUNSHARE"; then echo "$*" > "$RUNSHARE/init-error"; fi
    finish
}

# $1 = list file (paths relative to /mods), in dependency order
load_list() {
    while read -r m; do
        [ -n "$m" ] || continue
        name=${m##*/}; name=${name%.ko}
        args=
        case " $SKIP_MODULES " in *" $name "*) say "skipping $name"; continue;; esac
        case $name in
            vivid) args=$VIVID_ARGS ;;
            v4l2loopback) args=$LOOPBACK_ARGS ;;
        esac
        # shellcheck disable=SC2086  # args are space-separated module parameters
        insmod "/mods/$m" $args || die "insmod $name $args failed"
    done < "$1"
}

say "init started"
SKIP_MODULES=
load_list /mods/boot.list

mount -t 9p -o "$OPTS9P,cache=none" viba_run "$RUNSHARE" || die "cannot mount the run share"
[ -f "$RUNSHARE/config" ] || die "no config in the run share"
# Sets REPO, MODDIR, VIVID_ARGS, LOOPBACK_ARGS, SKIP_MODULES.
. "$RUNSHARE/config"

mount -t 9p -o "$OPTS9P,ro,cache=loose" viba_root /lower || die "cannot mount the host root"
mount -t tmpfs -o mode=0755 tmpfs /rw || die "tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
    die "cannot mount the overlay root"

R=/newroot
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts $R/dev/pts
ln -sf pts/ptmx $R/dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777,nosuid,nodev shm $R/dev/shm || die "cannot mount /dev/shm"
mount -t tmpfs -o mode=1777 tmpfs $R/tmp || die "cannot mount /tmp"
mount -t tmpfs -o mode=0755 tmpfs $R/run || die "cannot mount /run"
mkdir -p $R/run/viba-vm $R/run/lock $R/run/user
mount --bind "$RUNSHARE" $R/run/viba-vm
[ -n "$REPO" ] || die "REPO not set"
mkdir -p "$R$REPO"
mount -t 9p -o "$OPTS9P,cache=mmap" viba_repo "$R$REPO" || die "cannot mount the repo share at $REPO"
# Let modprobe/rmmod work in the guest (the host has no /lib/modules for this kernel).
KVER=$(uname -r)
if [ -n "$MODDIR" ] && [ -d "$R$MODDIR" ]; then
    mkdir -p "$R/lib/modules/$KVER" && mount --bind "$R$MODDIR" "$R/lib/modules/$KVER"
fi
hostname viba-vm
ip link set lo up 2>/dev/null

say "loading video modules"
load_list /mods/video.list
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -e /dev/video0 ] && break
    sleep 0.1
done

stamp > "$RUNSHARE/boot_uptime"
say "running command"
chroot $R /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root USER=root LOGNAME=root TERM=dumb LANG=C.UTF-8 VIBA_IN_VM=1 \
    /bin/bash /run/viba-vm/cmd.sh </dev/null >"$RUNSHARE/stdout" 2>"$RUNSHARE/stderr"
rc=$?
stamp > "$RUNSHARE/end_uptime"
echo "$rc" > "$RUNSHARE/rc.tmp" && mv "$RUNSHARE/rc.tmp" "$RUNSHARE/rc"
say "command exited with $rc"
finish
