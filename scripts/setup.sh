#!/usr/bin/env bash
# Installs what viba needs to build and run from this checkout, idempotently:
# - Debian packages for building (only when missing; needs root or sudo),
# - the ONNX Runtime shared library from PyPI into .ort/ (onnxruntime==1.31.1;
#   VIBA_ORT=gpu installs onnxruntime-gpu==1.31.1 and the CUDA wheels it needs instead).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION=1.31.1
ORT_DIR=.ort
ORT_LIB="$ORT_DIR/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION"

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc)
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
# libclang: bindgen in the v4l crate (V4L2 camera source and fake-webcam sink).
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need_apt+=(libclang-dev)
if [ "${VIBA_SETUP_FFMPEG:-0}" = 1 ] && ! command -v ffmpeg >/dev/null; then need_apt+=(ffmpeg); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
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
    --platform manylinux_2_28_x86_64 --python-version 3.12 --target "$ORT_DIR" "$pkg"
  if [ ${#extra[@]} -gt 0 ]; then
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform manylinux_2_28_x86_64 --python-version 3.12 --target "$ORT_DIR/cuda" "${extra[@]}" ||
      echo "setup: could not install the CUDA wheels; the cuda execution provider will report what is missing" >&2
  fi
  touch "$marker"
fi
echo "$PWD/$ORT_LIB"
