#!/usr/bin/env bash
# vm/setup.sh - prepare everything vm/run.sh needs to boot a Debian kernel with
# vivid + v4l2loopback under QEMU. Idempotent and cached; a warm run takes well
# under a second.
#
#   vm/setup.sh            prepare (if needed); prints the path of boot.env on stdout
#   vm/setup.sh --force    rebuild the cache for the current kernel ABI
#
# Environment:
#   VIBA_VM_CACHE   cache folder (default: $HOME/.cache/viba-vm; keep it outside the repo)
#   VIBA_VM_ABI     kernel ABI to use (default: PINNED_ABI below, known good; when the archive no
#                   longer has it, what linux-image-amd64 depends on now)
#   VIBA_VM_NO_APT_INSTALL=1   never install host packages (fail if missing)
#
# Host side effects: only `apt-get install` of the host tools listed below (when missing).
# The kernel, headers, v4l2loopback sources and busybox-static are fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into the cache: no package hooks
# run and nothing is installed into the host's /lib/modules.
set -euo pipefail
export LC_ALL=C

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VIBA_VM_CACHE:-${HOME:-/root}/.cache/viba-vm}
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

log() { printf '[viba-vm setup] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else die "need root (or sudo) to run: $*"; fi
}

# ---------------------------------------------------------------- host tools
# command -> package. busybox-static is NOT installed on the host: the initramfs gets
# it from the cache (a dynamic `busybox` on the host would conflict with it).
HOST_PKGS=(qemu-system-x86 ffmpeg v4l-utils kmod cpio make gcc-12 libelf1 libssl3 xz-utils gzip)

ensure_host_packages() {
    local missing=() p
    # One dpkg-query for all (it is slow to start); packages it does not know are missing too.
    local have
    # dpkg-query exits 1 when any of them is not installed: that is an answer, not an error.
    have=$( { dpkg-query -W -f='${Package} ${Status}\n' "${HOST_PKGS[@]}" 2>/dev/null || true; } |
           awk '/ ok installed$/ { sub(/:.*/, "", $1); print $1 }')
    for p in "${HOST_PKGS[@]}"; do
        grep -qxF "$p" <<<"$have" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "${VIBA_VM_NO_APT_INSTALL:-0}" = 1 ] && die "missing host packages: ${missing[*]}"
    log "installing host packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
        log "apt-get install failed; running apt-get update and retrying"
        as_root apt-get update >&2
        as_root apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
}

# ---------------------------------------------------------------- kernel ABI
# The kernel the suite is known to pass with (vm/README.md, "Kernel ABI"). Debian's archive moves:
# when this ABI can no longer be downloaded, the current one (what linux-image-amd64 depends on)
# is used instead, and setup says so.
PINNED_ABI=6.1.0-57-amd64

update_lists() {
    [ "${UPDATED_LISTS:-0}" = 1 ] && return 0
    UPDATED_LISTS=1
    log "refreshing the package lists (apt-get update)"
    as_root apt-get update >&2 || log "apt-get update failed; going on with the lists there are"
}

abi_from_apt() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: linux-image-\([0-9].*-amd64\)$/\1/p' | head -n1
}

# The packages download_debs downloads for ABI $1.
abi_packages() {
    local abi=$1
    echo "linux-image-$abi linux-headers-$abi linux-headers-${abi%-amd64}-common" \
         "linux-kbuild-${abi%%.*}.$(echo "$abi" | cut -d. -f2)"
}

# Whether apt knows every package of ABI $1 (a version it can download).
abi_known() {
    local p
    # shellcheck disable=SC2046
    for p in $(abi_packages "$1"); do
        apt-cache show "$p" >/dev/null 2>&1 || return 1
    done
}

# Prints the ABI to use and why (to stderr).
resolve_abi() {
    if [ -n "${VIBA_VM_ABI:-}" ]; then log "kernel $VIBA_VM_ABI (VIBA_VM_ABI)"; echo "$VIBA_VM_ABI"; return; fi
    if [ -f "$CACHE/$PINNED_ABI/kernel.ready" ]; then echo "$PINNED_ABI"; return; fi
    if abi_known "$PINNED_ABI" || { update_lists; abi_known "$PINNED_ABI"; }; then
        log "kernel $PINNED_ABI (pinned, known good)"
        echo "$PINNED_ABI"; return
    fi
    current_abi "the pinned $PINNED_ABI is not in the archive any more"
}

# The ABI linux-image-amd64 depends on now ($1: why it is used), else the newest cached one.
current_abi() {
    local dep
    dep=$(abi_from_apt)
    if [ -z "$dep" ]; then update_lists; dep=$(abi_from_apt); fi
    if [ -n "$dep" ]; then
        log "kernel $dep, the current one ($1; if the tests fail with it, pin a good ABI in vm/setup.sh)"
        echo "$dep"; return
    fi
    # Offline: fall back to the newest ready cache entry.
    dep=$(ls -1 "$CACHE" 2>/dev/null | grep -E '^[0-9].*-amd64$' | sort -V |
          while read -r d; do [ -f "$CACHE/$d/boot.env" ] && echo "$d"; done | tail -n1)
    [ -n "$dep" ] || die "cannot resolve a kernel ABI: apt-cache knows no linux-image-amd64 and there is no cache (is the Debian archive reachable? try: apt-get update)"
    log "kernel $dep, from the cache ($1, and apt knows no linux-image-amd64)"
    echo "$dep"
}

# ---------------------------------------------------------------- build steps
# Scratch space for the .debs, headers and the module build: a tmpfs when there is one.
# (Unpacking the 16k header files onto this machine's disk takes ~13 s; onto tmpfs ~1 s.)
make_scratch() {
    local base=${TMPDIR:-/tmp}
    if [ -d /dev/shm ] && [ -w /dev/shm ] &&
       [ "$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 { print $4 }')" -gt 400000 ] 2>/dev/null; then
        base=/dev/shm
    fi
    mktemp -d "$base/viba-vm-setup.XXXXXX"
}

# Downloads the .debs of $ABI into $1 (emptied first); 1 (with apt's message) when apt cannot.
download_debs() {
    local debs=$1 pkgs
    rm -rf "$debs"; mkdir -p "$debs"
    # shellcheck disable=SC2207
    pkgs=($(abi_packages "$ABI") v4l2loopback-dkms busybox-static)
    log "downloading: ${pkgs[*]}"
    # As root, apt-get download warns that it downloads unsandboxed: harmless.
    (cd "$debs" && apt-get download "${pkgs[@]}" >"$debs/apt.log" 2>&1) && return 0
    # Lists older than the archive name files it no longer has.
    update_lists
    (cd "$debs" && apt-get download "${pkgs[@]}" >"$debs/apt.log" 2>&1) && return 0
    cat "$debs/apt.log" >&2
    log "apt-get download failed"
    return 1
}

extract() {  # $1 = cache dir, $2 = scratch dir (with the .debs in $2/debs)
    local w=$1 s=$2 debs=$2/debs
    mkdir -p "$w/root" "$s/root"
    local d m=./lib/modules/$ABI
    for d in "$debs"/*.deb; do
        basename "$d" >> "$w/packages.txt"
        case $(basename "$d") in
            linux-image-*)
                # 400 MB of modules: unpack only the parts the guest can use (~16 MB): the
                # virtio/9p/overlay boot modules, the V4L2 core and the media test drivers.
                # XZ decompression takes ~5 s: do it in the background while the module builds
                # (wait_image_unpacked).
                dpkg-deb --fsys-tarfile "$d" | tar -x -C "$w/root" --wildcards \
                    './boot/*' "$m/modules.*" "$m/kernel/drivers/virtio/*" \
                    "$m/kernel/net/9p/*" "$m/kernel/fs/9p/*" "$m/kernel/fs/overlayfs/*" \
                    "$m/kernel/fs/netfs/*" "$m/kernel/fs/fscache/*" \
                    "$m/kernel/drivers/media/test-drivers/*" "$m/kernel/drivers/media/v4l2-core/*" \
                    "$m/kernel/drivers/media/common/*" "$m/kernel/drivers/media/mc/*" \
                    "$m/kernel/drivers/media/cec/*" "$m/kernel/drivers/media/rc/*" &
                IMAGE_PID=$! ;;
            *) dpkg-deb -x "$d" "$s/root" ;;
        esac
    done
    [ -x "$s/root/bin/busybox" ] || die "busybox-static did not unpack"
    cp "$s/root/bin/busybox" "$w/busybox"
}

wait_image_unpacked() {
    wait "$IMAGE_PID" || die "unpacking linux-image-$ABI failed"
    [ -f "$1/root/boot/vmlinuz-$ABI" ] || die "no vmlinuz-$ABI in linux-image-$ABI"
}

build_v4l2loopback() {  # $1 = cache dir, $2 = scratch dir
    local w=$1 r=$2/root
    local hdr=$r/usr/src/linux-headers-$ABI
    [ -f "$hdr/Makefile" ] || die "headers not found at $hdr"
    # The arch headers' Makefile is `include /usr/src/linux-headers-<abi>-common/Makefile`:
    # point it at the unpacked copy. (scripts/ and tools/ are relative symlinks into
    # usr/lib/linux-kbuild-6.1 and need no fix.)
    sed -i "s#^include /usr/src/#include $r/usr/src/#" "$hdr/Makefile"
    local src
    src=$(ls -d "$r"/usr/src/v4l2loopback-* | head -n1)
    [ -n "$src" ] || die "v4l2loopback source not found"
    cp -r "$src" "$2/v4l2loopback"
    log "building $(basename "$src").ko against $ABI"
    make -C "$hdr" M="$2/v4l2loopback" modules >"$w/v4l2loopback-build.log" 2>&1 ||
        { tail -n 40 "$w/v4l2loopback-build.log" >&2; die "v4l2loopback build failed"; }
    mkdir -p "$w/root/lib/modules/$ABI/updates"
    cp "$2/v4l2loopback/v4l2loopback.ko" "$w/root/lib/modules/$ABI/updates/"
}

index_modules() {  # $1 = work dir: depmod the partial module tree
    depmod -b "$1/root" -F "$1/root/boot/System.map-$ABI" "$ABI"
}

check_modules() {  # every module we load must find all its symbols in the partial tree
    local w=$1 bad
    bad=$(depmod -b "$w/root" -n -e -E "$2/root/usr/src/linux-headers-$ABI/Module.symvers" "$ABI" 2>&1 >/dev/null |
          sed -n 's#.*/lib/modules/[^/]*/\([^ ]*\.ko\) needs unknown symbol.*#\1#p' | sort -u |
          grep -xF -f <(cat "$w/boot-modules.txt" "$w/video-modules.txt") || true)
    [ -z "$bad" ] || die "modules with unresolved symbols (extend the unpack list in extract): $bad"
}

extract_vmlinux() {  # $1 = work dir; writes $1/vmlinux if the kernel supports PVH
    local w=$1 z=$1/root/boot/vmlinuz-$ABI off
    grep -q '^CONFIG_PVH=y' "$w/root/boot/config-$ABI" || { log "kernel lacks CONFIG_PVH; will boot vmlinuz"; return 0; }
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$z" | head -n1 | cut -d: -f1 || true)
    if [ -z "$off" ]; then log "no XZ payload in vmlinuz; will boot vmlinuz"; return 0; fi
    tail -c +$((off + 1)) "$z" | xz -dc --single-stream > "$w/vmlinux.tmp" 2>/dev/null || true
    if [ "$(head -c 4 "$w/vmlinux.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
        mv "$w/vmlinux.tmp" "$w/vmlinux"
    else
        rm -f "$w/vmlinux.tmp"; log "could not extract an ELF vmlinux; will boot vmlinuz"
    fi
}

build_initramfs() {  # $1 = work dir; prints the initramfs path
    local w=$1 r=$1/root key out stage
    key=$( { cat "$VM_DIR/init.sh"; cat "$w/boot-modules.txt" "$w/video-modules.txt"; } | sha256sum | cut -c1-16)
    out=$w/initramfs-$key.cpio.gz
    if [ -f "$out" ]; then echo "$out"; return; fi
    stage=$(mktemp -d "$w/initramfs.XXXXXX")
    mkdir -p "$stage"/{bin,sbin,proc,sys,dev,mods,share/run,lower,rw,newroot}
    cp "$w/busybox" "$stage/bin/busybox"
    cp "$VM_DIR/init.sh" "$stage/init"; chmod 755 "$stage/init"
    local f
    cat "$w/boot-modules.txt" "$w/video-modules.txt" | while read -r f; do
        mkdir -p "$stage/mods/$(dirname "$f")"
        cp "$r/lib/modules/$ABI/$f" "$stage/mods/$f"
    done
    cp "$w/boot-modules.txt" "$stage/mods/boot.list"
    cp "$w/video-modules.txt" "$stage/mods/video.list"
    (cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$stage"
    for f in "$w"/initramfs-*.cpio.gz; do [ "$f" = "$out" ] || rm -f "$f"; done
    echo "$out"
}

module_order() {  # $@ = module names; prints paths relative to lib/modules/$ABI, in load order
    modprobe -d "$W/root" -S "$ABI" --show-depends -a "$@" |
        sed -n "s#^insmod $W/root/lib/modules/$ABI/\([^ ]*\).*#\1#p" | awk '!seen[$0]++'
}

module_lists() {  # boot-modules.txt / video-modules.txt: what /init insmods, in order
    module_order virtio_pci 9pnet_virtio 9p overlay > "$W/boot-modules.txt"
    module_order vivid v4l2loopback | grep -vxF -f "$W/boot-modules.txt" > "$W/video-modules.txt" || true
    grep -q 'vivid.ko' "$W/video-modules.txt" || die "vivid.ko not found in the module tree"
    grep -q 'v4l2loopback.ko' "$W/video-modules.txt" || die "v4l2loopback.ko not found in the module tree"
}

# ---------------------------------------------------------------- main
# Unpacks, builds and indexes the kernel of $ABI into $W from the .debs in $SCRATCH/debs.
build_kernel() {
    local t0 t1
    t0=$(date +%s%N)
    rm -rf "$W"; mkdir -p "$W"
    timed() { local a b; a=$(date +%s%N); "$@"; b=$(date +%s%N); log "  $1: $(( (b - a) / 1000000 )) ms"; }
    timed extract "$W" "$SCRATCH"
    timed build_v4l2loopback "$W" "$SCRATCH"
    timed wait_image_unpacked "$W"
    timed index_modules "$W"
    timed module_lists
    timed check_modules "$W" "$SCRATCH"
    timed extract_vmlinux "$W"
    touch "$W/kernel.ready"
    t1=$(date +%s%N)
    log "kernel $ABI prepared in $(( (t1 - t0) / 1000000 )) ms"
}

check_abi() { case $1 in *[!A-Za-z0-9.+_-]*|'') die "odd ABI '$1'";; esac; }

ensure_host_packages
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
ABI=$(resolve_abi)
check_abi "$ABI"
W=$CACHE/$ABI
if [ "$FORCE" = 1 ]; then rm -rf "$W"; fi

if [ ! -f "$W/kernel.ready" ]; then
    SCRATCH=$(make_scratch)
    trap 'rm -rf "$SCRATCH"' EXIT
    if ! download_debs "$SCRATCH/debs"; then
        [ -z "${VIBA_VM_ABI:-}" ] && [ "$ABI" = "$PINNED_ABI" ] ||
            die "cannot download the packages of kernel $ABI (see apt's message above; is the Debian archive reachable?)"
        ABI=$(current_abi "the pinned $PINNED_ABI cannot be downloaded")
        check_abi "$ABI"
        W=$CACHE/$ABI
        if [ ! -f "$W/kernel.ready" ]; then
            download_debs "$SCRATCH/debs" ||
                die "cannot download the packages of kernel $ABI either (see apt's message above)"
        fi
    fi
    [ -f "$W/kernel.ready" ] || build_kernel
    rm -rf "$SCRATCH"
fi

INITRD=$(build_initramfs "$W")
if [ -f "$W/vmlinux" ] && [ "${VIBA_VM_BOOT_VMLINUZ:-0}" != 1 ]; then KERNEL=$W/vmlinux; else KERNEL=$W/root/boot/vmlinuz-$ABI; fi

cat > "$W/boot.env.tmp" <<EOF
VIBA_VM_ABI='$ABI'
VIBA_VM_KERNEL='$KERNEL'
VIBA_VM_INITRD='$INITRD'
VIBA_VM_MODDIR='$W/root/lib/modules/$ABI'
EOF
mv "$W/boot.env.tmp" "$W/boot.env"
echo "$W/boot.env"
