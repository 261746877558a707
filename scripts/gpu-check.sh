#!/usr/bin/env bash
# Checks the CUDA path on a machine with an NVIDIA GPU (CI has none, so CI never runs this):
#   1. viba-segmenter --check with segmentation.execution_provider "cuda" (the session is made with
#      the CUDA provider, which fails loudly rather than falling back to the CPU);
#   2. the whole pipeline on the portrait, once with cuda and once with cpu: both exit 0, and the
#      last composites agree (the masks differ only by float rounding at the edge);
#   3. timings: seg_timing (preprocess + one model run) for the CPU provider and for each way of
#      driving the CUDA provider (model::Drive), with the masks of each compared, and viba-bench
#      with each provider at 720p and 1080p.
#
#   VIBA_ORT=gpu scripts/setup.sh && cargo build --release --workspace && scripts/gpu-check.sh
#
# Environment: VIBA_BIN (folder of the release binaries and seg_timing; default target/release),
# ORT_DYLIB_PATH (the GPU build of libonnxruntime; default what setup.sh installed), and the CUDA
# libraries on LD_LIBRARY_PATH (setup.sh's .ort/cuda/nvidia/*/lib are added when present).
# VIBA_GPU_OUT: folder for the outputs (default out/gpu-check).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${VIBA_BIN:-$repo/target/release}
out=${VIBA_GPU_OUT:-$repo/out/gpu-check}
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$repo/.ort/onnxruntime/capi/libonnxruntime.so.1.31.1}
for d in "$repo"/.ort/cuda/nvidia/*/lib; do
  [ -d "$d" ] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true

w=1280 h=720 frames=90
config() { # provider file
  cat >"$out/$1.json" <<EOF
{
  "instance": "gpucheck-$1",
  "input": { "source": "image", "path": "$repo/testdata/astronaut.png", "motion": false,
             "width": $w, "height": $h, "fps": 30 },
  "output": { "sink": "file", "path": "$out/$1.y4m", "max_frames": $frames,
              "snapshot": "$out/$1.png" },
  "background": { "image": "$repo/backgrounds/default.jpg" },
  "segmentation": { "model": "$repo/models/selfie_segmentation_landscape.onnx",
                    "execution_provider": "$1" }
}
EOF
}

# Every step runs even when one before it failed (one lease of a GPU machine should say all it
# can); the exit code is 1 if any failed.
failed=0
fail() {
  echo "gpu-check: $*" >&2
  failed=1
}

echo "== 1. viba-segmenter --check with cuda"
config cuda
"$bin/viba-segmenter" --check --config "$out/cuda.json" || fail "viba-segmenter --check with cuda failed"

echo "== 2. the pipeline with cuda and with cpu"
for p in cuda cpu; do
  config "$p"
  start=$EPOCHREALTIME
  if "$bin/viba-supervisor" --config "$out/$p.json" 2>"$out/$p.log"; then
    awk -v a="$start" -v b="$EPOCHREALTIME" -v p="$p" -v n=$frames \
      'BEGIN { printf "%s: %d frames in %.2f s\n", p, n, b - a }'
  else
    cat "$out/$p.log"
    fail "the $p pipeline failed"
  fi
done
bytes=$((w * h * 2))
if [ -s "$out/cuda.y4m" ] && [ -s "$out/cpu.y4m" ]; then
  tail -c "$bytes" "$out/cuda.y4m" >"$out/cuda.last"
  tail -c "$bytes" "$out/cpu.y4m" >"$out/cpu.last"
  differ=$(cmp -l "$out/cuda.last" "$out/cpu.last" | wc -l || true)
  echo "last composite: $differ of $bytes bytes differ between cuda and cpu"
  [ $((differ * 100)) -le $((bytes * 2)) ] || fail "cuda and cpu composites differ in more than 2% of the bytes"
fi

echo "== 3. timings, and the drives' masks"
# seg_timing once per drive (model::Drive; each in a process of its own, as the CUDA driver's
# blocking flag stays for the process): preprocess + one model run back to back, then runs after
# pauses as in the pipeline (VIBA_TIMING_WAKE), CPU ms per run; and the masks of the portrait and
# its mirror, compared below.
st=$bin/seg_timing
[ -x "$st" ] || st=$bin/examples/seg_timing
if [ -x "$st" ]; then
  model=$repo/models/selfie_segmentation_landscape.onnx
  runs=(cpu:plain cuda:plain cuda:blocking cuda:bound cuda:bound,graph cuda:bound,graph,blocking)
  for r in "${runs[@]}"; do
    p=${r%%:*} d=${r#*:}
    echo "-- seg_timing $p $d (720p frame, landscape model)"
    VIBA_TIMING_WAKE=1 VIBA_TIMING_MASKS="$out/masks-$p-$d" "$st" "$model" "$p" "$d" ||
      fail "seg_timing $p $d failed"
  done
  # The CUDA drives run the same kernels: their masks must equal the plain drive's byte for
  # byte (a drive that fed a stale input or copied out the wrong buffer would differ); the CPU's
  # differ by float rounding at the edge, at most 2 % of the bytes.
  ref=$out/masks-cuda-plain
  for r in "${runs[@]}"; do
    f=$out/masks-${r%%:*}-${r#*:}
    [ "$f" != "$ref" ] || continue
    if [ ! -s "$f" ] || [ ! -s "$ref" ]; then
      fail "no masks to compare for $r"
      continue
    fi
    n=$(stat -c %s "$f")
    d=$(cmp -l "$f" "$ref" | wc -l || true)
    echo "masks $r against cuda plain: $d of $n bytes differ"
    case $r in
    cuda:*) [ "$d" = 0 ] || fail "the $r masks differ from cuda plain's" ;;
    *) [ $((d * 100)) -le $((n * 2)) ] || fail "the $r masks differ from cuda's in more than 2% of the bytes" ;;
    esac
  done
fi
for p in cpu cuda; do
  "$bin/viba-bench" --execution-provider "$p" --sizes 1280x720,1920x1080 --seconds 8 \
    --json "$out/bench-$p.json" 2>"$out/bench-$p.log" | tee "$out/bench-$p.txt" ||
    fail "viba-bench with $p failed (see $out/bench-$p.log)"
done
[ $failed = 0 ] || exit 1
echo "gpu-check: ok"
