#!/usr/bin/env bash
# Create (or reuse) the mmpathseg virtual environment.
#
# Idempotent: a second run on the same machine reuses the environment when the
# requirement files are unchanged, and always reuses the cached mmcv wheel instead
# of rebuilding it (about 15 minutes on 2 cores).
#
#   MMPATHSEG_HOME   cache root              (default: ~/.cache/mmpathseg)
#   MMPATHSEG_ENV    virtual environment     (default: $MMPATHSEG_HOME/venv)
#   MMPATHSEG_PYTHON interpreter for the env (default: python3.11, else python3)
#   MAX_JOBS         parallel compile jobs   (default: number of cores)
#
# Prints the path of the environment's python on the last line of stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${MMPATHSEG_HOME:-$HOME/.cache/mmpathseg}"
ENV_DIR="${MMPATHSEG_ENV:-$HOME_DIR/venv}"
WHEEL_DIR="$HOME_DIR/wheels"
MMCV_VERSION="2.1.0"
PY="${MMPATHSEG_PYTHON:-$(command -v python3.11 || command -v python3)}"

log() { echo "[setup_env] $*" >&2; }

mkdir -p "$HOME_DIR" "$WHEEL_DIR"

# The stamp covers every input of the environment: a change reinstalls.
STAMP_SRC="$(cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "$0" | sha256sum | cut -c1-16)"
STAMP_FILE="$ENV_DIR/.mmpathseg-stamp"
# mmpathseg's own C kernels are built in place, in the checkout (editable
# install), so a reused environment with a fresh checkout builds them too;
# they are rebuilt when a source is newer. Without a C compiler the numpy
# implementations run (slower; a warning says so and a test fails).
build_kernels() {
    local so stale=0
    so="$(ls "$ROOT"/mmpathseg/ops/_label_kernels*.so 2>/dev/null | head -n 1 || true)"
    if [[ -z "$so" ]]; then
        stale=1
    else
        for src in "$ROOT"/mmpathseg/ops/csrc/*.c; do
            [[ "$src" -nt "$so" ]] && stale=1
        done
    fi
    if (( stale )); then
        log "building mmpathseg's C kernels (mmpathseg/ops/csrc)"
        (cd "$ROOT" && "$1" setup.py -q build_ext --inplace >&2) \
            || log "could not build the C kernels: the numpy implementations will run"
    fi
}

if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP_SRC" ]]; then
    log "reusing $ENV_DIR"
    build_kernels "$ENV_DIR/bin/python"
    echo "$ENV_DIR/bin/python"
    exit 0
fi

if [[ ! -x "$ENV_DIR/bin/python" ]]; then
    log "creating virtual environment $ENV_DIR with $PY"
    "$PY" -m venv "$ENV_DIR"
fi
VPY="$ENV_DIR/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

"${PIP[@]}" install -q --upgrade "pip>=24"
log "installing torch/torchvision ($(grep -v '^#' "$ROOT/requirements/torch.txt" | xargs))"
"${PIP[@]}" install -q -r "$ROOT/requirements/torch.txt"
# After torch: torch pulls the newest setuptools, which has no pkg_resources.
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt"

# ---------------------------------------------------------------- mmcv with ops
TORCH_TAG="$("$VPY" -c 'import torch; print(torch.__version__.split("+")[0])')"
WHEEL_GLOB="$WHEEL_DIR/torch$TORCH_TAG/mmcv-$MMCV_VERSION-*.whl"
# shellcheck disable=SC2086
if ! ls $WHEEL_GLOB >/dev/null 2>&1; then
    log "building mmcv $MMCV_VERSION with ops against torch $TORCH_TAG (about 15 min on 2 cores)"
    BUILD_DIR="$(mktemp -d "$HOME_DIR/mmcv-build.XXXXXX")"
    trap 'rm -rf "$BUILD_DIR"' EXIT
    "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD_DIR"
    tar -xzf "$BUILD_DIR"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD_DIR"
    SRC="$BUILD_DIR/mmcv-$MMCV_VERSION"
    # torch >= 2.14 headers need C++20; mmcv 2.1.0 hard-codes -std=c++17.
    if "$VPY" -c 'import sys, torch; v = tuple(map(int, torch.__version__.split("+")[0].split(".")[:2])); sys.exit(v < (2, 14))'; then
        sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    fi
    # Build into a temporary folder, then move: an interrupted build never leaves
    # a partial wheel that a later run would take for a finished one.
    MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
        "${PIP[@]}" wheel -q --no-build-isolation --no-deps "$SRC" -w "$BUILD_DIR/out"
    mkdir -p "$WHEEL_DIR/torch$TORCH_TAG"
    mv "$BUILD_DIR"/out/mmcv-*.whl "$WHEEL_DIR/torch$TORCH_TAG/"
    rm -rf "$BUILD_DIR"
    trap - EXIT
else
    log "reusing cached mmcv wheel in $WHEEL_DIR/torch$TORCH_TAG"
fi
# shellcheck disable=SC2086
"${PIP[@]}" install -q --no-deps $WHEEL_GLOB

# ---------------------------------------------------------------- the rest
log "installing runtime and test requirements"
# The torch pins act as constraints so no dependency swaps torch underneath mmcv.
"${PIP[@]}" install -q -c "$ROOT/requirements/torch.txt" \
    -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" install -q -c "$ROOT/requirements/torch.txt" --no-build-isolation --no-deps -e "$ROOT"

"$VPY" -c 'import mmcv.ops, mmseg.models, mmpretrain.models, segment_anything, mmpathseg' \
    || { log "environment check failed"; exit 1; }
build_kernels "$VPY"
echo "$STAMP_SRC" > "$STAMP_FILE"
log "ready: $ENV_DIR"
echo "$VPY"
