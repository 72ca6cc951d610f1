#!/usr/bin/env bash
# Builds runner in release mode and runs the side-by-side benchmark against numpy.
# Usage: benchmarks/run.sh [--quick] [--rounds N] [--markdown]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
exec python3 benchmarks/compare.py "$@"
