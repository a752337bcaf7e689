#!/usr/bin/env bash
# NetAug on CUDA in one short call on an offline GPU host (see
# ../shared/gpu/README.md for .whl, .gpu and .cards): installs the stack,
# converts the cards data, then
#   1. benchmark_netaug.py --check on SSDLite and YOLOv3 x0.35, cards 320x320,
#      batch 24, one after the other with the GPU to themselves: NetAug /
#      plain training step time and peak GPU memory, and the exported tiny
#      model's parity with the supernet (params, FLOPs, strict load, equal
#      outputs) on CUDA;
#   1b. (targets) benchmark_batched_targets.py for SSDLite and YOLOv3
#      x0.35, cards 320x320, batch 24: operator calls and time of mmdet's
#      per-image anchor targets against the batched ones
#      (batched_targets=True), the training step with each, and whether
#      targets and losses are identical on CUDA (the losses compared with
#      deterministic kernels: the default ones differ in the last bits
#      from run to run); where all four runs' are, the evidence part runs
#      with batched_targets=True, on this call and on later ones (the
#      first decision is kept in work_dirs/gpu_check/batched_targets.decision;
#      runs committed under docs/evidence/cuda with it keep it too);
#   2. then two short NetAug trainings at once through tools/train.py (the
#      hook's width augmentation and its stop, two backward passes,
#      validation with CUDA NMS): float32 and --amp (float16 with dynamic
#      loss scaling).
#   3. (only when PARTS names it) the paired accuracy protocol,
#      tools/analysis_tools/netaug_evidence.sh, for the seeds in SEEDS,
#      JOBS runs at once, until the deadline: the results JSON, markdown and
#      curves, and every run's logs (finished or not; no checkpoints),
#      packed with the rest. Commit the finished runs under
#      docs/evidence/cuda/ (the script starts from there next time) and the
#      suite grows by the seeds each lease finishes.
# Each step has its own time limit, so that a slow or broken one leaves the
# others' results. Logs and JSON land in work_dirs/gpu_check; on the lent
# device machine (OUT set) they are also packed into
# $OUT/gpu_check_logs.tar.gz whenever the script ends, with the trainings'
# logs (no checkpoints), and the compiled mmcv extension comes back
# stripped and xz-compressed in parts of 15 MiB, $OUT/mmcv_ext.so.xz.00,
# .01, ... (a file coming back from the device machine may not exceed 16
# MiB; unstripped, the whole was 17.9 MB for an H200 build, and with .whl,
# .gpu, .cards and the checkout every carried MiB counts towards the 64 MiB
# a call carries): put the parts in .mmcv_ext/ and carry it next time, and
# the compile (about 4 minutes) is skipped, unless the carried extension
# fails to import or to run NMS on the GPU (another torch or GPU), in which
# case it is compiled again.
#
#   bash tools/misc/gpu_check.sh
#
# Environment: PYTHON (default python3), STEPS (benchmark steps, default
# 30), EPOCHS (of the short trainings, default 2 = 100 iterations, widths
# augmented in the first), DEADLINE (seconds from the start by which every
# step is stopped, default 520, to fit a 10-minute call with the install),
# TRAIN_OPTIONS (more --cfg-options of the trainings), BENCH_OPTIONS (more
# options of the benchmarks), PARTS (default "bench targets train"; any of
# bench, targets, train, evidence), SEEDS and JOBS (of the evidence part;
# default 0 and 6),
# EVIDENCE_OPTIONS (more options of compare_accuracy.py in the evidence
# part, e.g. '--pairs A B' for one pair of a short lease, --val-interval),
# SKIP_INSTALL=1 where the stack is installed already (e.g. to try the
# script on CPU: DEVICE=cpu STEPS=2 EPOCHS=1 SKIP_INSTALL=1).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=work_dirs/gpu_check
mkdir -p "$out"
python=${PYTHON:-python3}
steps=${STEPS:-30}
epochs=${EPOCHS:-2}
device=${DEVICE:-cuda}
deadline=${DEADLINE:-520}
parts=" ${PARTS:-bench targets train} "
for part in $parts; do
  case $part in bench|targets|train|evidence) ;;
    *) echo "gpu_check: PARTS has '$part';" \
         'expected bench, targets, train or evidence' >&2
       exit 2 ;;
  esac
done
start=$SECONDS
left() { echo $((deadline - (SECONDS - start))); }
stamp() { echo "[gpu_check +$((SECONDS - start)) s] $*"; }
pack() {
  [ -n "${OUT:-}" ] || return 0
  # no checkpoints (too large to come back), nor what points to them or
  # locks the run folders (a copy of the logs resumes nothing)
  tar czf "$OUT/gpu_check_logs.tar.gz" --exclude='*.pth' \
    --exclude=last_checkpoint --exclude=.lock -C work_dirs \
    gpu_check $(cd work_dirs && ls -d gpu_fp32 gpu_amp evidence/cuda \
                2> /dev/null)
}
trap pack EXIT

# -- install ---------------------------------------------------------------
build=/tmp/mmcv-build/mmcv-2.1.0  # where .gpu/install_offline.sh builds
works() {  # the installed mmcv imports and runs NMS on the device
  "$python" -c "import torch
from mmcv.ops import nms
boxes = torch.tensor([[0., 0, 10, 10], [1, 1, 10, 10]], device='$device')
keep = nms(boxes, torch.tensor([0.9, 0.8], device='$device'), 0.5)[1]
assert keep.tolist() == [0], keep"
}
if [ -z "${SKIP_INSTALL:-}" ]; then
  stamp install
  carried=
  ext_parts=$(ls .mmcv_ext/mmcv_ext.so.xz.[0-9]* 2> /dev/null)
  if [ -n "$ext_parts" ] && [ ! -d "$build" ]; then
    suffix=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
    # shellcheck disable=SC2086  # the parts, in order
    mkdir -p /tmp/mmcv-build \
      && tar xzf .whl/mmcv-2.1.0.tar.gz -C /tmp/mmcv-build \
      && cat $ext_parts | xz -dc > /tmp/mmcv_ext.so \
      && mv /tmp/mmcv_ext.so "$build/mmcv/_ext$suffix" && carried=1
    [ -n "$carried" ] || rm -rf /tmp/mmcv-build
  fi
  exports=$(bash .gpu/install_offline.sh .whl) && eval "$exports" && works
  status=$?
  if [ "$status" != 0 ] && [ -n "$carried" ]; then
    stamp 'the carried mmcv extension failed (see above): compiling it'
    rm -rf /tmp/mmcv-build; carried=
    exports=$(bash .gpu/install_offline.sh .whl) && eval "$exports" && works
    status=$?
  fi
  [ "$status" = 0 ] || { stamp 'install failed'; exit 1; }
  if [ -z "$carried" ] && [ -n "${OUT:-}" ] && command -v xz > /dev/null; then
    so=$(ls "$build"/mmcv/_ext*.so | head -n 1)
    # without its symbol table (not needed to load it; smaller to carry)
    cp "$so" /tmp/mmcv_ext_copy.so
    strip --strip-unneeded /tmp/mmcv_ext_copy.so 2> /dev/null || true
    mkdir -p /tmp/mmcv_ext_parts && xz -T0 -9 -c /tmp/mmcv_ext_copy.so \
      | split -b 15M -d - /tmp/mmcv_ext_parts/mmcv_ext.so.xz. \
      && mv /tmp/mmcv_ext_parts/mmcv_ext.so.xz.* "$OUT/" \
      && ls -l "$OUT"/mmcv_ext.so.xz.*
  fi
  stamp "installed (mmcv extension $([ -n "$carried" ] && echo carried || echo built here))"
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
  > "$out/env.txt" 2>&1
"$python" -c 'import torch, mmcv, mmdet, mmengine; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available(), "cudnn", torch.backends.cudnn.version(), "mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmengine", mmengine.__version__)' \
  >> "$out/env.txt" 2>&1
nproc >> "$out/env.txt"
cat "$out/env.txt"
if [ ! -f data/cards/annotations/train.json ]; then
  "$python" tools/dataset_converters/voc_to_coco.py "${CARDS:-.cards}" \
    data/cards --splits train test \
    --classes nine ten jack queen king ace --link-images || exit 1
fi

# -- 1. benchmarks, alone --------------------------------------------------
bench() {  # name, NetAug config, plain config
  local name=$1 limit
  limit=$(( $(left) < 200 ? $(left) : 200 ))
  [ "$limit" -gt 120 ] || { stamp "benchmark $name: no time left"; return; }
  # shellcheck disable=SC2086  # BENCH_OPTIONS is a list
  timeout -k 10 "$limit" "$python" \
    tools/analysis_tools/benchmark_netaug.py "$2" "$3" --device "$device" \
    --steps "$steps" --warmup 5 --infer-steps 30 --check \
    --out "$out/bench_$name.json" ${BENCH_OPTIONS:-} \
    > "$out/bench_$name.log" 2>&1
  stamp "benchmark $name: exit $?"
  grep -A 30 '^training (same batches' "$out/bench_$name.log"
}
if [[ $parts == *" bench "* ]]; then
  stamp benchmarks
  bench ssdlite configs/netaug_ssdlite_mbv2_cards.py \
    configs/ssdlite_mbv2_w035_cards.py
  bench yolov3 configs/netaug_yolov3_mbv2_cards.py \
    configs/yolov3_mbv2_w035_cards.py
fi

# -- 1b. batched anchor targets against mmdet's ------------------------------
committed_decision() {  # the setting of runs committed from earlier leases
  if compgen -G 'docs/evidence/cuda/*/seed*/run.json' > /dev/null; then
    if grep -qs batched_targets=True docs/evidence/cuda/*/seed*/run.json
    then echo True; else echo False; fi
  fi
}
batched=() decided=
if [[ $parts == *" targets "* ]]; then
  : > "$out/batched_targets.log"
  for pair in "ssdlite_mbv2_cards ssdlite_mbv2_w035_cards" \
              "yolov3_mbv2_cards yolov3_mbv2_w035_cards"; do
    read -r netaug plain <<< "$pair"
    limit=$(( $(left) < 120 ? $(left) : 120 ))
    [ "$limit" -gt 60 ] || { stamp "batched targets $netaug: no time left"
                             continue; }
    timeout -k 10 "$limit" "$python" \
      tools/analysis_tools/benchmark_batched_targets.py \
      "configs/netaug_$netaug.py" "configs/$plain.py" --device "$device" \
      --batch-size 24 --steps 5 >> "$out/batched_targets.log" 2>&1
    stamp "batched targets $netaug: exit $?"
  done
  grep -E "targets, batch|training step|differ|Error" \
    "$out/batched_targets.log"
  identical=$(grep -c 'losses of .* identical' "$out/batched_targets.log")
  # plain and NetAug, SSDLite and YOLOv3
  if [ "$identical" = 4 ]; then decided=True; else decided=False; fi
  stamp "batched targets: $identical of 4 losses identical ($decided)"
fi
# The evidence runs keep the decision of the first call that made one (a
# later call, e.g. PARTS=evidence alone, must plan the same settings, or the
# comparison refuses the runs it started); the runs committed from earlier
# leases decide before this call's measurement; delete the file to decide
# again.
if [ ! -f "$out/batched_targets.decision" ]; then
  committed=$(committed_decision)
  decided=${committed:-$decided}
  [ -z "$decided" ] || echo "$decided" > "$out/batched_targets.decision"
fi
if [ "$(cat "$out/batched_targets.decision" 2> /dev/null)" = True ]; then
  batched=(--cfg-options batched_targets=True)
fi

# -- 2. short trainings, together ------------------------------------------
train() {  # name, extra arguments of tools/train.py
  local name=$1 limit; shift
  limit=$(( $(left) - 10 ))
  [ "$limit" -gt 30 ] || { stamp "training $name: no time left"; return; }
  # shellcheck disable=SC2086  # TRAIN_OPTIONS is a list
  timeout -k 10 "$limit" "$python" tools/train.py \
    configs/netaug_ssdlite_mbv2_cards.py --work-dir "work_dirs/gpu_$name" \
    "$@" --cfg-options randomness.seed=0 train_cfg.max_epochs="$epochs" \
    train_cfg.val_interval="$epochs" ${TRAIN_OPTIONS:-} \
    > "$out/train_$name.log" 2>&1
  stamp "training $name: exit $?"
}
if [[ $parts == *" train "* ]]; then
  stamp 'short trainings'
  train fp32 &
  train amp --amp &
  wait
  for name in fp32 amp; do
    [ -f "$out/train_$name.log" ] || continue
    echo "== training $name"
    grep -E "Epoch\(train\)|Epoch\(val\)|Error:|Traceback" \
      "$out/train_$name.log" | cut -c 1-230 | tail -n 8
  done
fi

# -- 3. the paired accuracy protocol, as far as the deadline allows ---------
if [[ $parts == *" evidence "* ]]; then
  limit=$(( $(left) - 15 ))
  if [ "$limit" -gt 120 ]; then
    stamp "evidence: seeds ${SEEDS:-0}, ${JOBS:-6} runs at once, ${limit} s"
    # --time-limit stops each training just after its last epoch in time
    # (checkpoint and validation; exit 75), so that a second call on the
    # warm machine resumes with little lost. It counts from the comparison's
    # start, after netaug_evidence.sh's set-up, and a stop takes up to 20 s,
    # hence the 60 s margin; the timeout is the backstop (on SIGTERM
    # compare_accuracy.py stops its trainings as on Ctrl-C)
    # shellcheck disable=SC2086  # EVIDENCE_OPTIONS is a list
    PYTHON=$python SEEDS=${SEEDS:-0} JOBS=${JOBS:-6} CARDS=${CARDS:-.cards} \
      timeout -k 10 "$limit" bash tools/analysis_tools/netaug_evidence.sh \
      --time-limit "$(( limit - 60 ))" \
      ${EVIDENCE_OPTIONS:-} ${batched[@]+"${batched[@]}"} \
      > "$out/evidence.log" 2>&1
    stamp "evidence: exit $?"
    grep -E "^\[|done |stopped|Error|^\|" "$out/evidence.log" | tail -n 30
  else
    stamp 'evidence: no time left'
  fi
fi
stamp done
