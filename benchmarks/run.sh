#!/usr/bin/env bash
# Builds runner in release mode and runs the side-by-side benchmark against PyTorch (when
# installed: set TORCH_PYTHON to a python that imports torch, see benchmarks/reference_torch.py)
# and numpy, printing runner ÷ PyTorch and runner ÷ numpy for every row.
# Usage: benchmarks/run.sh [--quick] [--rounds N] [--markdown] [--only sgemm,fc,convnet,conv,threads,sweep]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
exec python3 benchmarks/compare.py "$@"
