#!/usr/bin/env bash
# Reproduce models/selfie_segmentation{,_landscape}.onnx from the registry package they come from.
#
#   models/convert.sh [--out DIR] [--install] [--cache DIR] [--python PYTHON]
#
# 1. sets up a virtual environment with the pinned packages of models/convert-requirements.txt
#    (in the cache folder, default ${XDG_CACHE_HOME:-~/.cache}/viba-convert; reused while the pins match),
# 2. downloads the wheel mediapipe==0.10.21 (PyPI) and extracts the two .tflite files (checking sha256),
# 3. converts each with tf2onnx and replaces the MediaPipe custom op Convolution2DTransposeBias, which
#    tf2onnx cannot convert, by an ONNX ConvTranspose (models/convert_tflite.py), then rewrites the graph
#    channels first from input to output with the squeeze-and-excite weights spread to their feature
#    map's size (for onnxruntime's blocked kernels) and checks it against tf2onnx's graph,
# 4. checks each ONNX model against TensorFlow Lite running the .tflite (custom op rewritten as the
#    builtin TRANSPOSE_CONV),
# 5. compares the new models with the committed ones in models/ with onnxruntime on random inputs and
#    testdata/astronaut.png, and prints the largest difference.
#
# The new models go to --out (default: a new temporary folder). The committed models are replaced only
# with --install, and only when the comparison passed. tf2onnx's output is not byte-reproducible (the
# generated names of folded constants change run to run): compare outputs, not hashes.
#
# Exit status: 0 converted and checked, 1 a check failed or a step went wrong, 2 bad arguments.
set -euo pipefail

MEDIAPIPE_VERSION=0.10.21
WHEEL=mediapipe-${MEDIAPIPE_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
WHEEL_SHA256=05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3
TFLITE_DIR=mediapipe/modules/selfie_segmentation
declare -A TFLITE_SHA256=(
    [selfie_segmentation]=9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c
    [selfie_segmentation_landscape]=a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd
)
MODELS=(selfie_segmentation selfie_segmentation_landscape)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=""
install=0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/viba-convert
python=${PYTHON:-python3}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "convert.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --out) out=${2:?--out needs a folder}; shift 2 ;;
        --install) install=1; shift ;;
        --cache) cache=${2:?--cache needs a folder}; shift 2 ;;
        --python) python=${2:?--python needs an interpreter}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "convert.sh: unknown argument '$1' (see: models/convert.sh --help)" >&2; exit 2 ;;
    esac
done

start=$SECONDS
export TF_CPP_MIN_LOG_LEVEL=2 CUDA_VISIBLE_DEVICES="" PIP_DISABLE_PIP_VERSION_CHECK=1
if [ -n "$out" ]; then
    out=$(realpath -m "$out")
    case "$out/" in "$here/"*) die "--out must be outside models/ (use --install to replace the committed models)";; esac
else
    out=$(mktemp -d "${TMPDIR:-/tmp}/viba-convert.XXXXXX")
fi
mkdir -p "$out" "$cache"
work=$out/work
mkdir -p "$work"
echo "== output folder: $out"

# --- 1. virtual environment -----------------------------------------------------------------------
venv=$cache/venv
reqs=$here/convert-requirements.txt
if ! cmp -s "$reqs" "$venv/.viba-requirements.txt" 2>/dev/null; then
    echo "== creating $venv (pinned packages, about 300 MB download)"
    rm -rf "$venv"
    "$python" -m venv "$venv" || die "cannot create a venv with $python (Debian: apt-get install python3-venv)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r "$reqs" \
        || die "installing the pinned packages failed (tested with CPython 3.11; pick another with --python)"
    cp "$reqs" "$venv/.viba-requirements.txt"
else
    echo "== reusing $venv"
fi
py=$venv/bin/python
"$py" -c 'import sys, tensorflow, tf2onnx, onnx, onnxruntime, tflite, numpy, PIL
print("== python %s; tensorflow-cpu %s, tf2onnx %s, onnx %s, onnxruntime %s, numpy %s, pillow %s" % (
    sys.version.split()[0], tensorflow.__version__, tf2onnx.__version__, onnx.__version__,
    onnxruntime.__version__, numpy.__version__, PIL.__version__))' || die "the venv $venv is broken: delete it"

# --- 2. the .tflite files from the mediapipe wheel ------------------------------------------------
wheels=$cache/wheels
mkdir -p "$wheels"
if [ ! -f "$wheels/$WHEEL" ]; then
    echo "== downloading mediapipe==$MEDIAPIPE_VERSION from PyPI"
    "$py" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$wheels" "mediapipe==$MEDIAPIPE_VERSION" \
        || die "pip download mediapipe==$MEDIAPIPE_VERSION failed"
fi
echo "$WHEEL_SHA256  $wheels/$WHEEL" | sha256sum --check --quiet \
    || die "$WHEEL has an unexpected sha256 (delete $wheels and retry)"
for m in "${MODELS[@]}"; do
    "$py" - "$wheels/$WHEEL" "$TFLITE_DIR/$m.tflite" "$work/$m.tflite" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as f:
    f.write(z.read(sys.argv[2]))
EOF
    echo "${TFLITE_SHA256[$m]}  $work/$m.tflite" | sha256sum --check --quiet || die "$m.tflite: unexpected sha256"
    echo "== $TFLITE_DIR/$m.tflite sha256 ${TFLITE_SHA256[$m]}"
done

# --- 3. convert, 4. check against TensorFlow Lite ------------------------------------------------
helper=$here/convert_tflite.py
image=$repo/testdata/astronaut.png
[ -f "$image" ] || die "$image is missing"
for m in "${MODELS[@]}"; do
    "$py" "$helper" convert "$work/$m.tflite" "$out/$m.onnx" --workdir "$work" --opset 17 --image "$image"
    "$py" "$helper" check-tflite "$work/$m.tflite" "$out/$m.onnx" --rewritten "$work/$m.builtin.tflite" \
        --image "$image" 2> >(grep -v -e 'UserWarning' -e 'XNNPACK' >&2)
done

# --- 5. compare with the committed models ---------------------------------------------------------
echo "== new vs committed models (onnxruntime, CPU)"
"$py" "$helper" compare --new "$out" --ref "$here" --image "$image" "${MODELS[@]/%/.onnx}"
for m in "${MODELS[@]}"; do
    echo "== $out/$m.onnx sha256 $(sha256sum "$out/$m.onnx" | cut -d' ' -f1) (not expected to match the committed file)"
done

if [ "$install" = 1 ]; then
    for m in "${MODELS[@]}"; do cp "$out/$m.onnx" "$here/$m.onnx"; done
    echo "== installed into $here (update the sha256 values in models/README.md)"
fi
echo "== done in $((SECONDS - start)) s"
