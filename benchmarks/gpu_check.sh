#!/usr/bin/env bash
# One-command GPU check (see benchmarks/gpu_check.py for the steps and options):
#   bash benchmarks/gpu_check.sh OUT_DIR [--budget 450] [--pack] [--only STEP ...] [--dry-run]
# Runs from the repository root with PYTHONPATH=. (no install, no network). Without CUDA it says
# so and runs a CPU dry run of its own steps with tiny sizes.
set -u
cd "$(dirname "$0")/.." || exit 2
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 MPLBACKEND=Agg
PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null 2>&1 || PY=python
exec "$PY" benchmarks/gpu_check.py "$@"
