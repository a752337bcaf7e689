#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment with the stack that
# works together: torch, mmengine 0.10.7, mmcv 2.1.0 (built from source with
# its ops), mmdet 3.3.0, pycocotools, and this package in editable mode.
#
#   usage: bash tools/install.sh            # venv in ./.venv
#          VENV=/path/to/venv bash tools/install.sh
#          TORCH_SPEC="torch==2.4.1" bash tools/install.sh   # another torch
#
# Idempotent: when the venv already imports everything at the pinned
# versions, it only re-links the package and returns within seconds.
# mmcv's build (about 6 minutes on 2 cores) lands in pip's wheel cache, so a
# fresh venv on the same machine reuses it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
python=${PYTHON:-python3}
torch_spec=${TORCH_SPEC:-torch==2.13.0}
py=$venv/bin/python

# mmcv's compiled ops import, and were compiled with CUDA where torch has
# CUDA (a build made where no GPU was visible, or a wheel pip cached from
# such a build, imports but has no CUDA kernels: the first validation on
# the GPU would fail)
ops_work() {
  "$py" - <<'PY' 2>/dev/null
import torch
from mmcv.ops import get_compiling_cuda_version, nms  # noqa: F401
if torch.version.cuda is not None:
    assert get_compiling_cuda_version() != 'not available'
PY
}

install_mmcv() {  # pip options, e.g. --no-cache-dir
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    "$py" -m pip install -q --no-build-isolation "$@" mmcv==2.1.0
}

check() {
  ops_work || return 1
  "$py" - <<'PY' 2>/dev/null
import mmcv, mmdet, mmengine, pycocotools, torch  # noqa: F401
assert mmcv.__version__ == '2.1.0', mmcv.__version__
assert mmdet.__version__ == '3.3.0', mmdet.__version__
assert mmengine.__version__ == '0.10.7', mmengine.__version__
PY
}

if [ ! -x "$py" ]; then
  echo "[install] creating virtual environment $venv"
  "$python" -m venv "$venv"
fi

if check; then
  echo "[install] stack already present in $venv"
else
  "$py" -m pip install -q --upgrade pip
  # A CUDA user keeps the torch already in the venv; otherwise install ours.
  if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "[install] $torch_spec"
    "$py" -m pip install -q "$torch_spec"
  fi
  # mmcv's setup.py imports pkg_resources and torch: old setuptools, and no
  # build isolation so that it sees the installed torch. torch itself
  # requires a newer setuptools: the old one is only there for the build
  # (no conflict warning for that moment) and is replaced right after.
  "$py" -m pip install -q --no-warn-conflicts "setuptools<70" wheel ninja
  if ! ops_work; then
    if "$py" -c 'import torch; assert torch.version.cuda' 2>/dev/null; then
      export FORCE_CUDA=1  # CUDA kernels even where no GPU is visible
    fi
    echo "[install] mmcv 2.1.0 with ops (compiled once, about 6 minutes on 2 cores; then cached by pip)"
    "$py" -m pip uninstall -q -y mmcv 2>/dev/null || true
    install_mmcv
    if ! ops_work; then  # a CPU-only wheel from pip's cache: compile it
      echo "[install] mmcv's cached build has no CUDA ops: compiling it again"
      "$py" -m pip uninstall -q -y mmcv
      install_mmcv --no-cache-dir
    fi
  fi
  echo "[install] mmengine, mmdet, pycocotools"
  "$py" -m pip install -q --no-warn-conflicts mmengine==0.10.7 mmdet==3.3.0 \
    pycocotools
  check || { echo "[install] the stack does not import; see the errors above" >&2; exit 1; }
fi
# The test and plotting tools (make test runs pytest with pytest-xdist's
# -n), also into a venv made before they were needed.
if ! "$py" -c 'import pytest, xdist, matplotlib' 2>/dev/null; then
  echo "[install] pytest, pytest-xdist, matplotlib"
  "$py" -m pip install -q --no-warn-conflicts pytest pytest-xdist matplotlib
fi
# The setuptools torch asks for (mmcv's build needed an older one); below 81,
# which still ships the pkg_resources that mmengine imports.
if ! "$py" -m pip check >/dev/null 2>&1; then
  "$py" -m pip install -q --no-warn-conflicts "setuptools>=77.0.3,<81"
fi
"$py" -m pip install -qq --no-deps --no-build-isolation -e "$root"
if ! conflicts=$("$py" -m pip check 2>&1); then
  echo "[install] warning: pip check reports: $conflicts" >&2
fi
echo "[install] ready: $venv"
