#!/usr/bin/env bash
# Installs what viba needs to build and run from this checkout, idempotently:
# - Debian packages for building (only when missing; needs root or sudo): a C compiler, libclang
#   (bindgen in the v4l crate), libjpeg-turbo's TurboJPEG library (MJPEG cameras), Python 3 with pip; with VIBA_SETUP_FFMPEG=1 also ffmpeg (the
#   tests decode videos with it and feed fake cameras with it); with VIBA_SETUP_CLIENTS=1 also the
#   applications the V4L2 tests read the fake webcam with (chromium, firefox-esr, GStreamer's
#   gst-launch-1.0 with v4l2src),
# - the ONNX Runtime shared library from PyPI into .ort/ (onnxruntime==1.31.1;
#   VIBA_ORT=gpu installs onnxruntime-gpu==1.31.1 and the CUDA wheels it needs instead).
# Prints the path of the ONNX Runtime library on stdout. Every failure says what failed and the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
ORT_DIR=.ort
ORT_LIB="$ORT_DIR/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION"

fail() {
  echo "setup: $*" >&2
  exit 1
}

# libclang itself (what bindgen loads), not a look-alike: Debian 12 images carry libclang-cpp.so.14,
# which is another library. Looks where clang-sys (bindgen's loader) looks.
have_libclang() {
  local d f
  for d in ${LIBCLANG_PATH:-} /usr/lib/llvm-*/lib /usr/lib/*-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
    for f in "$d"/libclang.so "$d"/libclang.so.* "$d"/libclang-[0-9]*.so "$d"/libclang-[0-9]*.so.*; do
      [ -e "$f" ] && return 0
    done
  done
  return 1
}

# TurboJPEG for linking (libturbojpeg0-dev: the unversioned libturbojpeg.so beside the header).
have_turbojpeg() {
  local d
  for d in /usr/lib/*-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
    [ -e "$d/libturbojpeg.so" ] && return 0
  done
  return 1
}

have_pip() { python3 -m pip --version >/dev/null 2>&1; }

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc)
have_libclang || need_apt+=(libclang-dev)
have_turbojpeg || need_apt+=(libturbojpeg0-dev)
command -v python3 >/dev/null || need_apt+=(python3)
have_pip || need_apt+=(python3-pip)
if [ "${VIBA_SETUP_FFMPEG:-0}" = 1 ] && ! command -v ffmpeg >/dev/null; then need_apt+=(ffmpeg); fi
if [ "${VIBA_SETUP_CLIENTS:-0}" = 1 ]; then
  command -v chromium >/dev/null || need_apt+=(chromium)
  command -v firefox-esr >/dev/null || need_apt+=(firefox-esr)
  command -v gst-launch-1.0 >/dev/null || need_apt+=(gstreamer1.0-tools)
  # v4l2src (plugins-good) and videoconvert (plugins-base).
  [ -e /usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideo4linux2.so ] || need_apt+=(gstreamer1.0-plugins-good)
  [ -e /usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoconvertscale.so ] ||
    [ -e /usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoconvert.so ] || need_apt+=(gstreamer1.0-plugins-base)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null ||
      fail "missing Debian packages ${need_apt[*]}, and no sudo to install them (as root: apt-get install ${need_apt[*]})"
    SUDO=sudo
  fi
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  # The package lists of a new machine are as old as its image: refresh them first.
  $SUDO apt-get update -qq >/dev/null ||
    fail "apt-get update failed (network or /etc/apt/sources.list?); then run: apt-get install ${need_apt[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null ||
    fail "apt-get install ${need_apt[*]} failed (see apt's message above)"
  have_libclang || fail "libclang is still missing after installing libclang-dev (set LIBCLANG_PATH to its folder)"
  have_turbojpeg || fail "libturbojpeg.so is still missing after installing libturbojpeg0-dev"
  have_pip || fail "python3 -m pip does not work (install python3-pip)"
fi

flavour="${VIBA_ORT:-cpu}"
marker="$ORT_DIR/.installed-$flavour-$ORT_VERSION"
if [ ! -f "$marker" ] || [ ! -f "$ORT_LIB" ]; then
  rm -rf "$ORT_DIR"
  pkg="onnxruntime==$ORT_VERSION"
  extra=()
  if [ "$flavour" = gpu ]; then
    pkg="onnxruntime-gpu==$ORT_VERSION"
    # The CUDA 13 runtime, cuBLAS, cuRAND and cuDNN 9 libraries the CUDA provider loads.
    extra=(nvidia-cuda-runtime nvidia-cublas nvidia-curand nvidia-cudnn-cu13 nvidia-cufft)
  fi
  echo "setup: installing $pkg from PyPI into $ORT_DIR/" >&2
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --python-version 3.12 --target "$ORT_DIR" "$pkg" ||
    fail "pip could not install $pkg into $ORT_DIR/ (is PyPI reachable? see pip's message above)"
  [ -f "$ORT_LIB" ] || fail "$pkg installed no $ORT_LIB"
  if [ ${#extra[@]} -gt 0 ]; then
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform manylinux_2_28_x86_64 --python-version 3.12 --target "$ORT_DIR/cuda" "${extra[@]}" ||
      echo "setup: could not install the CUDA wheels; the cuda execution provider will report what is missing" >&2
  fi
  touch "$marker"
fi
echo "$PWD/$ORT_LIB"
