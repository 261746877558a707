#!/usr/bin/env bash
# Builds the Debian package of viba: the files of scripts/install.sh with the prefix /usr (the
# programs, ONNX Runtime, models, background, demo, README, the systemd user unit), as
# target/debian/viba_VERSION_amd64.deb. Install it with: sudo apt install ./target/debian/viba_*.deb
#
#   scripts/deb.sh [--bin-dir DIR] [--out DIR]
set -euo pipefail
umask 022
out="" args=()
while [ $# -gt 0 ]; do
  case $1 in
    --bin-dir) args+=(--bin-dir "$(realpath -m "$2")"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    *) echo "deb.sh: unknown argument $1 (use --bin-dir DIR, --out DIR)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
out=${out:-$PWD/target/debian}
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
chmod 755 "$stage"
trap 'rm -rf "$stage"' EXIT
./scripts/install.sh --prefix /usr --destdir "$stage" ${args[@]+"${args[@]}"} >/dev/null
mkdir -p "$stage/DEBIAN"
size=$(du -sk "$stage/usr" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: viba
Version: $version
Architecture: $arch
Maintainer: viba developers <viba@localhost>
Installed-Size: $size
Depends: libc6 (>= 2.31), libgcc-s1, libturbojpeg0
Recommends: v4l2loopback-dkms
Suggests: ffmpeg
Section: video
Priority: optional
Description: fake webcam that hides the room behind you
 viba reads the real webcam, finds the person with a small neural network, puts them over a
 background of your choice (blur, a picture, a colour or a video) and writes the result to a
 v4l2loopback device that video-call applications use as a camera. Start it for your session
 with: viba-supervisor init; systemctl --user enable --now viba
CONTROL
mkdir -p "$out"
deb=$out/viba_${version}_$arch.deb
dpkg-deb --build --root-owner-group "$stage" "$deb" >/dev/null
echo "deb.sh: built $deb"
