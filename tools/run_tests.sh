#!/usr/bin/env bash
# The test suite, from a fresh machine: set up (or reuse) the environment, then
# run pytest. Extra arguments go to pytest, e.g. `bash tools/run_tests.sh -k pannuke`.
# Exits non-zero when a test fails and when no test ran (pytest exit code 5).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$(bash "$ROOT/tools/setup_env.sh" | tail -n 1)"
cd "$ROOT"
# No network at run time: fail instead of downloading weights or data.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "$PY" -m pytest tests "$@"
