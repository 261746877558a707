#!/usr/bin/env bash
# The README's pictures (docs/pictures/): the bundled portrait through the real pipeline with each
# background kind, and an edge before (the raw model's mask) and after (the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --workspace --bins
exec target/release/viba-pictures --out docs/pictures "$@"
