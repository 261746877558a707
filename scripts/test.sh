#!/usr/bin/env bash
# The test command (README: "Run the tests"). Sets up what it needs, builds every binary the
# integration tests start (workers, test helpers), then runs the whole test suite with the
# real processes, shared memory, ONNX Runtime and model.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
cargo build --workspace --bins --examples
cargo test --workspace
