#!/usr/bin/env bash
# Installs viba without a checkout at run time: the programs in PREFIX/bin, ONNX Runtime in
# PREFIX/lib/viba, the models, the default background and a demo in PREFIX/share/viba, the README in
# PREFIX/share/doc/viba, and the systemd user unit viba.service where systemd finds it
# (PREFIX/share/systemd/user for a home prefix, PREFIX/lib/systemd/user for /usr and /usr/local).
# The programs find all of it beside themselves, without flags.
#
#   scripts/install.sh [--prefix DIR]      # default ~/.local; builds the release binaries first
#   scripts/install.sh --uninstall [--prefix DIR]
#
# Also: --destdir DIR stages the files under DIR (paths inside still say PREFIX: what the Debian
# package does), --bin-dir DIR takes the programs from DIR instead of building them.
# What was installed is listed in PREFIX/share/viba/installed-files; --uninstall removes exactly that.
set -euo pipefail
umask 022
prefix=${HOME:-/root}/.local destdir="" bindir="" uninstall=0
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$(realpath -m "$2"); shift 2 ;;
    --bin-dir) bindir=$(realpath -m "$2"); shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    *) echo "install.sh: unknown argument $1 (use --prefix DIR, --uninstall, --destdir DIR, --bin-dir DIR)" >&2; exit 2 ;;
  esac
done
case $prefix in
  *[\#\&\ ]*) echo "install.sh: --prefix $prefix: no spaces, # or & please" >&2; exit 2 ;;
  /*) ;;
  *) echo "install.sh: --prefix $prefix must be an absolute path" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
root=$destdir$prefix
manifest=$root/share/viba/installed-files

if [ "$uninstall" = 1 ]; then
  [ -f "$manifest" ] || { echo "install.sh: nothing installed in $prefix ($manifest is missing)" >&2; exit 2; }
  while IFS= read -r f; do rm -f "$destdir$f"; done <"$manifest"
  # What the installed demo writes beside its config.
  rm -f "$manifest" "$root/share/viba/demo/demo.y4m" "$root/share/viba/demo/demo.png"
  # The folders install made, deepest first, when empty.
  for d in share/viba/models share/viba/backgrounds share/viba/demo share/viba share/doc/viba \
           lib/viba share/systemd/user share/systemd lib/systemd/user lib/systemd; do
    rmdir "$root/$d" 2>/dev/null || true
  done
  echo "install.sh: removed viba from $prefix"
  exit 0
fi

ORT_VERSION=$(sed -n 's/^pub const ORT_VERSION: &str = "\(.*\)";/\1/p' segmenter/src/runtime.rs)
ort=.ort/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION
if [ -z "$bindir" ]; then
  ./scripts/setup.sh >/dev/null
  cargo build --release --workspace --bins
  bindir=target/release
fi
[ -f "$ort" ] || ./scripts/setup.sh >/dev/null
case $prefix in
  /usr|/usr/local) unitdir=lib/systemd/user ;;
  *) unitdir=share/systemd/user ;;
esac

installed=()
put() { # mode source target (relative to the prefix)
  install -D -m "$1" "$2" "$root/$3"
  installed+=("$prefix/$3")
}
for b in viba-supervisor viba-capture viba-segmenter viba-compositor viba-bench; do
  [ -x "$bindir/$b" ] || { echo "install.sh: $bindir/$b is missing (build it, or drop --bin-dir)" >&2; exit 2; }
  put 755 "$bindir/$b" "bin/$b"
  strip "$root/bin/$b"
done
put 644 "$ort" "lib/viba/libonnxruntime.so.$ORT_VERSION"
for m in models/*.onnx models/LICENSE models/README.md; do put 644 "$m" "share/viba/$m"; done
put 644 backgrounds/default.jpg share/viba/backgrounds/default.jpg
put 644 backgrounds/README.md share/viba/backgrounds/README.md
put 644 testdata/astronaut.png share/viba/demo/astronaut.png
put 644 testdata/PROVENANCE.md share/viba/demo/PROVENANCE.md
demo=$(mktemp)
cat >"$demo" <<JSON
{
  "//": "The demo of an installed viba: viba-supervisor --config $prefix/share/viba/demo/demo.json",
  "instance": "demo",
  "input": { "source": "image", "path": "astronaut.png", "width": 640, "height": 480, "fps": 30,
             "motion": true },
  "output": { "sink": "file", "path": "demo.y4m", "snapshot": "demo.png", "max_frames": 60 },
  "background": { "image": "../backgrounds/default.jpg" },
  "segmentation": { "model": "../models/selfie_segmentation.onnx" }
}
JSON
put 644 "$demo" share/viba/demo/demo.json
rm -f "$demo"
put 644 README.md share/doc/viba/README.md
unit=$(mktemp)
sed -e "s#@BINDIR@#$prefix/bin#" -e "s#@DOCDIR@#$prefix/share/doc/viba#" contrib/viba.service >"$unit"
put 644 "$unit" "$unitdir/viba.service"
rm -f "$unit"
if [ -z "$destdir" ]; then
  printf '%s\n' "${installed[@]}" "$manifest" >"$manifest.tmp" && mv "$manifest.tmp" "$manifest"
fi
echo "install.sh: installed viba into $root"
if [ -z "$destdir" ]; then
  case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "install.sh: add $prefix/bin to PATH" ;; esac
  echo "install.sh: next: viba-supervisor init; then systemctl --user enable --now viba (README: Install)"
fi
