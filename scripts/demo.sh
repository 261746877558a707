#!/usr/bin/env bash
# The main job on a machine without a camera (README: "Run the demo"): the bundled portrait,
# moving, goes through the real pipeline (supervisor, capture, segmenter, compositor) and comes
# out with the bundled background behind the person as out/demo.y4m (plus out/demo.mp4 when
# ffmpeg is installed) and a PNG snapshot out/demo.png.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --release --workspace --bins
rm -f out/demo.y4m out/demo.png out/demo.mp4
target/release/viba-supervisor --config config/demo.json
if command -v ffmpeg >/dev/null; then
  ffmpeg -nostdin -loglevel error -y -i out/demo.y4m -pix_fmt yuv420p out/demo.mp4 && echo "demo: wrote out/demo.mp4"
fi
echo "demo: wrote out/demo.y4m (play it with mpv, ffplay or vlc) and out/demo.png"
