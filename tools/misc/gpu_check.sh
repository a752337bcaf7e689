#!/usr/bin/env bash
# NetAug on CUDA in one short call on an offline GPU host (see
# ../shared/gpu/README.md for .whl, .gpu and .cards): installs the stack,
# converts the cards data, then
#   1. benchmark_netaug.py --check on SSDLite and YOLOv3 x0.35, cards 320x320,
#      batch 24: NetAug / plain training step time and peak GPU memory, and
#      the exported tiny model's parity with the supernet (params, FLOPs,
#      strict load, equal outputs) on CUDA;
#   2. meanwhile, two short NetAug trainings through tools/train.py (the
#      hook's width augmentation and its stop, two backward passes,
#      validation with CUDA NMS): float32 and --amp (float16 with dynamic
#      loss scaling).
# Each step has its own time limit, so that a slow or broken one leaves the
# others' results. Logs and JSON land in work_dirs/gpu_check; on the lent
# device machine (OUT set) also packed into $OUT/gpu_check_logs.tar.gz, with
# the compiled mmcv extension as $OUT/mmcv_ext.so.xz: carry it back as
# .mmcv_ext/mmcv_ext.so.xz next time and the 4-minute compile is skipped
# (compiled again where it does not import, e.g. under another torch).
#
#   bash tools/misc/gpu_check.sh
#
# Environment: OUT, PYTHON (default python3), STEPS (benchmark steps,
# default 30), EPOCHS (of the short trainings, default 4 = 200 iterations),
# DEADLINE (seconds from the start by which every step is stopped, default
# 520, to fit a 10-minute call with the install),
# TRAIN_OPTIONS (more --cfg-options of the trainings), BENCH_OPTIONS (more
# options of the benchmarks), SKIP_INSTALL=1 where the stack is installed already (e.g. to try the
# script on CPU: DEVICE=cpu STEPS=2 EPOCHS=1 SKIP_INSTALL=1).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=work_dirs/gpu_check
mkdir -p "$out"
python=${PYTHON:-python3}
steps=${STEPS:-30}
epochs=${EPOCHS:-4}
device=${DEVICE:-cuda}
deadline=${DEADLINE:-520}
start=$SECONDS
left() { echo $((deadline - (SECONDS - start))); }
stamp() { echo "[gpu_check +$((SECONDS - start)) s] $*"; }

build=/tmp/mmcv-build/mmcv-2.1.0  # where .gpu/install_offline.sh builds
if [ -z "${SKIP_INSTALL:-}" ]; then
  stamp install
  prebuilt=
  if [ -f .mmcv_ext/mmcv_ext.so.xz ] && [ ! -d "$build" ]; then
    mkdir -p /tmp/mmcv-build && tar xzf .whl/mmcv-2.1.0.tar.gz -C /tmp/mmcv-build \
      && xz -dc .mmcv_ext/mmcv_ext.so.xz \
        > "$build/mmcv/_ext.cpython-312-x86_64-linux-gnu.so" && prebuilt=1
  fi
  if ! exports=$(bash .gpu/install_offline.sh .whl); then
    [ -n "$prebuilt" ] || { stamp 'install failed'; exit 1; }
    stamp 'the carried mmcv extension does not import: compiling it'
    rm -rf /tmp/mmcv-build; prebuilt=
    exports=$(bash .gpu/install_offline.sh .whl) \
      || { stamp 'install failed'; exit 1; }
  fi
  eval "$exports"
  if [ -z "$prebuilt" ] && [ -n "${OUT:-}" ] && command -v xz > /dev/null; then
    xz -T0 -c "$build"/mmcv/_ext*.so > "$OUT/mmcv_ext.so.xz"
  fi
  stamp "installed (mmcv extension $([ -n "$prebuilt" ] && echo carried || echo compiled))"
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
  > "$out/env.txt" 2>&1
"$python" -c 'import torch, mmcv, mmdet, mmengine; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available(), "mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmengine", mmengine.__version__)' \
  >> "$out/env.txt" 2>&1
cat "$out/env.txt"
if [ ! -f data/cards/annotations/train.json ]; then
  "$python" tools/dataset_converters/voc_to_coco.py "${CARDS:-.cards}" \
    data/cards --splits train test \
    --classes nine ten jack queen king ace --link-images || exit 1
fi

train() {  # name, extra arguments of tools/train.py
  local name=$1; shift
  # shellcheck disable=SC2086  # TRAIN_OPTIONS and BENCH_OPTIONS are lists
  timeout "$(left)" "$python" tools/train.py \
    configs/netaug_ssdlite_mbv2_cards.py --work-dir "work_dirs/gpu_$name" \
    "$@" --cfg-options randomness.seed=0 train_cfg.max_epochs="$epochs" \
    train_cfg.val_interval="$epochs" ${TRAIN_OPTIONS:-} \
    > "$out/train_$name.log" 2>&1
  stamp "training $name: exit $?"
}
stamp 'short trainings (background)'
train fp32 &
train amp --amp &

bench() {  # name, NetAug config, plain config
  local name=$1
  [ "$(left)" -gt 30 ] || { stamp "benchmark $name: no time left"; return; }
  timeout "$(( $(left) < 200 ? $(left) : 200 ))" "$python" \
    tools/analysis_tools/benchmark_netaug.py "$2" "$3" --device "$device" \
    --steps "$steps" --warmup 5 --infer-steps 30 --check \
    --out "$out/bench_$name.json" ${BENCH_OPTIONS:-} \
    > "$out/bench_$name.log" 2>&1
  stamp "benchmark $name: exit $?"
  tail -n 25 "$out/bench_$name.log"
}
stamp benchmarks
bench ssdlite configs/netaug_ssdlite_mbv2_cards.py \
  configs/ssdlite_mbv2_w035_cards.py
bench yolov3 configs/netaug_yolov3_mbv2_cards.py \
  configs/yolov3_mbv2_w035_cards.py
wait
for name in fp32 amp; do
  echo "== training $name"
  grep -E "Epoch\(train\)|Epoch\(val\)|coco/bbox_mAP|Error:|Traceback" \
    "$out/train_$name.log" | tail -n 8
done
[ -n "${OUT:-}" ] && tar czf "$OUT/gpu_check_logs.tar.gz" -C work_dirs gpu_check
stamp done
