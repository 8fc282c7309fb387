#!/usr/bin/env bash
# The quick-start demo, from a fresh machine:
#   1. set up (or reuse) the environment          tools/setup_env.sh
#   2. generate the demo data if absent           tools/misc/prepare_demo_data.py
#   3. train the demo config                      work_dirs/demo
#   4. test the last checkpoint: metrics table, and pictures of predictions
#
#   bash tools/run_demo.sh             train from scratch, then test
#   bash tools/run_demo.sh --resume    continue an interrupted training, then test
#   bash tools/run_demo.sh --test-only test the last checkpoint of an earlier run
#
#   WORK_DIR  where checkpoints, logs and pictures go (default: work_dirs/demo)
#   CONFIG    the config to run (default: configs/demo/cellvta-tiny_pannuke-demo.py;
#             any config under configs/demo/ works: its data is generated too)
#   MMPATHSEG_ENV_PYTHON  a python that already has the stack: skip step 1
#
# Re-running reuses the environment and the data; every plain run retrains
# (21 minutes for the CellVTA demo on 2 heavily loaded CPU cores), replacing
# the previous run's checkpoints and pictures (older logs stay in their
# timestamped folders).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG="${CONFIG:-configs/demo/cellvta-tiny_pannuke-demo.py}"
WORK_DIR="${WORK_DIR:-work_dirs/demo}"
MODE="train"
case "${1:-}" in
    "") ;;
    --resume) MODE="resume" ;;
    --test-only) MODE="test" ;;
    *) echo "usage: bash tools/run_demo.sh [--resume | --test-only]" >&2; exit 2 ;;
esac

log() { echo "[run_demo] $*" >&2; }

if [[ -n "${MMPATHSEG_ENV_PYTHON:-}" ]]; then
    PY="$MMPATHSEG_ENV_PYTHON"
    log "using $PY (MMPATHSEG_ENV_PYTHON); not running tools/setup_env.sh"
else
    PY="$(bash "$ROOT/tools/setup_env.sh" | tail -n 1)"
fi
cd "$ROOT"
# No network at run time.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# Each generator writes its info file last: a dataset without it is
# (re)generated.
log "preparing the data of $CONFIG"
"$PY" tools/misc/prepare_demo_data.py "$CONFIG" >&2

if [[ "$MODE" != "test" ]]; then
    RESUME_ARGS=()
    if [[ "$MODE" == "resume" ]]; then
        RESUME_ARGS=(--resume)
    else
        rm -f "$WORK_DIR"/iter_*.pth "$WORK_DIR"/last_checkpoint
    fi
    log "training $CONFIG into $WORK_DIR"
    START=$SECONDS
    "$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "${RESUME_ARGS[@]}"
    log "training took $((SECONDS - START)) s"
fi

if [[ ! -f "$WORK_DIR/last_checkpoint" ]]; then
    log "no checkpoint in $WORK_DIR: run 'bash tools/run_demo.sh' first"
    exit 1
fi
CHECKPOINT="$(cat "$WORK_DIR/last_checkpoint")"
rm -rf "$WORK_DIR/vis"
log "testing $CHECKPOINT"
"$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR" \
    --show-dir "$WORK_DIR/vis"

PICTURE="$(find "$WORK_DIR/vis" -name '*.png' 2>/dev/null | sort | head -n 1)"
if [[ -z "$PICTURE" ]]; then
    log "no picture was written under $WORK_DIR/vis"
    exit 1
fi
echo
echo "Metrics: the table above (the config's test split); logs in $WORK_DIR."
echo "Pictures (ground truth left, prediction right): $(dirname "$PICTURE")/"
echo "For example: $PICTURE"
