#!/usr/bin/env bash
# The paired accuracy protocol of docs/benchmarks.md in one command: NetAug
# against its plain baseline, same seed = same starting tiny weights and the
# same data order, on the cards dataset; results JSON, markdown and curves
# with the device named (tools/analysis_tools/compare_accuracy.py, which
# resumes where it stopped when run again with the same arguments; runs
# finished in earlier sittings are committed under docs/evidence/ and
# are not trained again).
#
#   bash tools/analysis_tools/netaug_evidence.sh [compare_accuracy options]
#
# With CUDA: SSDLite-MobileNetV2 x0.35, YOLOv3-MobileNetV2 x0.35 and the
# width-1.0 SSDLite control at the cards configs' own protocol (320x320,
# batch 24, 30 epochs of the train split repeated 4 times = 1500
# iterations), JOBS runs at once on the one GPU (default 8; measured on an
# H100, four at once went 2.8x slower each than one alone: docs/benchmarks.md,
# "GPU runs"), the CPU cores shared among them (compare_accuracy.py
# --threads). Without: the CPU protocol, SSDLite and YOLOv3 x0.35 at 224x224,
# batch 8 (4440 iterations), one thread per run, two runs at a time.
#
# SUITE=hardshapes runs the generated underfitting benchmark instead
# (tools/misc/make_synthetic_dataset.py --variant hard): SSDLite x0.35 and
# its width-1.0 control, NetAug against plain, SEEDS default 0 1 2.
#
# SUITE=kd runs the four arms of the distillation comparison (plain, KD,
# NetAug, NetAug + KD; docs/benchmarks.md, "Distillation") at the same
# protocol: first the teacher (plain SSDLite x1.0, seed 0, trained with
# tools/train.py into the path the KD configs name, its test accuracy in
# its log), then the paired runs, sharing the plain and NetAug runs of the
# default suite. Pairs: NetAug + KD against KD and against NetAug, KD
# against plain, NetAug against plain.
#
# SUITE=walltime runs the 72-epoch schedule on CPU, SEEDS default 0 1 2:
# NetAug against plain, both for 72 epochs
# (configs/{netaug_ssdlite_mbv2,ssdlite_mbv2_w035}_cards_224_72e.py), and
# the equal-cost arm: NetAug (30 epochs, the default suite's runs) against
# plain trained as long in wall time (the same 72-epoch plain runs).
# docs/evidence/walltime_cards224_cpu.json holds these two pairs.
#
# SUITE=yolov3_72e runs the same 72-epoch schedule for YOLOv3 x0.35:
# NetAug against plain, both for 72 epochs
# (configs/{netaug_yolov3_mbv2,yolov3_mbv2_w035}_cards_224_72e.py, which
# seed each epoch's augmentation: EpochSeedHook), SEEDS default 0 1 2.
#
# SUITE=wide runs the width-1.0 control at the CPU protocol: NetAug
# SSDLite-MobileNetV2 x1.0 against plain x1.0 (224x224, batch 8, 30
# epochs), SEEDS default 0 1 2. (With CUDA the default suite has it.)
# SUITE=wide_72e runs it for 72 epochs, the schedule at which the tiny
# SSDLite's gain showed (configs/{netaug_,}ssdlite_mbv2_w100_cards_224_72e.py,
# which seed each epoch's augmentation: EpochSeedHook), SEEDS default 0 1 2.
#
# Environment: SUITE (default: cards, the suite above; any other name than
# these stops the script at once), PYTHON (default: .venv/bin/python where
# tools/install.sh made it, else python), SEEDS
# (default: 0 1 2 3 4), JOBS,
# WORK_DIR (default: work_dirs/evidence), CARDS (the VOC-style cards folder,
# default ../shared/data/cards; on an offline GPU host copy it into the
# checkout, e.g. CARDS=.cards, see ../shared/gpu/README.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# the project's venv (tools/install.sh) unless PYTHON names another
python=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python)}
suite=${SUITE:-cards}
suites='cards hardshapes kd walltime wide wide_72e yolov3_72e'
known=false
for name in $suites; do [ "$suite" = "$name" ] && known=true; done
if [ "$known" = false ]; then
  # a misspelt suite would otherwise train the default one for hours
  echo "netaug_evidence.sh: SUITE=$suite is not a suite;" \
    "expected one of: $suites" >&2
  exit 2
fi
seeds=${SEEDS:-0 1 2 3 4}
work=${WORK_DIR:-work_dirs/evidence}
cards=${CARDS:-../shared/data/cards}
device=$("$python" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')

if [ "$suite" = hardshapes ]; then
  "$python" tools/misc/make_synthetic_dataset.py --variant hard
  out="$work/hardshapes_$device"
  threads=()
  [ "$device" = cpu ] && threads=(--threads 1 --jobs "${JOBS:-2}")
  [ "$device" = cuda ] && threads=(--jobs "${JOBS:-4}")
  # shellcheck disable=SC2086  # SEEDS is a list
  exec "$python" tools/analysis_tools/compare_accuracy.py --pairs \
    configs/netaug_ssdlite_mbv2_hardshapes.py configs/ssdlite_mbv2_w035_hardshapes.py \
    configs/netaug_ssdlite_mbv2_w100_hardshapes.py configs/ssdlite_mbv2_w100_hardshapes.py \
    --seeds ${SEEDS:-0 1 2} --work-dir "$out" --out "$out/results.json" \
    --plot "$out/curves.png" "${threads[@]}" "$@"
fi

if [ ! -f data/cards/annotations/train.json ]; then
  "$python" tools/dataset_converters/voc_to_coco.py "$cards" data/cards \
    --splits train test --classes nine ten jack queen king ace --link-images
fi
# The cards suites' runs go to WORK_DIR/<device>. Runs finished in earlier
# sittings are committed (logs, no checkpoints) in docs/evidence/<device>/:
# start from them, so only missing seeds train.
out="$work/$device"
if [ -d "docs/evidence/$device" ] && [ ! -d "$out" ]; then
  mkdir -p "$out" && cp -r "docs/evidence/$device/." "$out/"
fi
# the CPU protocol's options (one thread per run)
cpu_options=(--batch-size 8 --threads 1 --jobs "${JOBS:-2}" --val-interval 2)
if [ "$suite" = kd ]; then
  if [ "$device" = cuda ]; then
    size="" train_options=() jobs=(--jobs "${JOBS:-8}")
  else
    size=_224
    train_options=(train_dataloader.batch_size=8)
    jobs=("${cpu_options[@]}")
  fi
  teacher=configs/ssdlite_mbv2_w100_cards$size.py
  teacher_dir=work_dirs/ssdlite_mbv2_w100_cards$size
  if [ ! -f "$teacher_dir/epoch_30.pth" ]; then
    [ "$device" = cpu ] && export OMP_NUM_THREADS=1
    "$python" tools/train.py "$teacher" --work-dir "$teacher_dir" --resume \
      --cfg-options randomness.seed=0 "${train_options[@]}"
  fi
  c=configs
  # shellcheck disable=SC2086  # SEEDS is a list
  exec "$python" tools/analysis_tools/compare_accuracy.py --pairs \
    $c/netaug_kd_ssdlite_mbv2_cards$size.py $c/kd_ssdlite_mbv2_cards$size.py \
    $c/netaug_kd_ssdlite_mbv2_cards$size.py $c/netaug_ssdlite_mbv2_cards$size.py \
    $c/kd_ssdlite_mbv2_cards$size.py $c/ssdlite_mbv2_w035_cards$size.py \
    $c/netaug_ssdlite_mbv2_cards$size.py $c/ssdlite_mbv2_w035_cards$size.py \
    --seeds $seeds --work-dir "$out" --out "$out/kd_results.json" \
    --plot "$out/kd_curves.png" "${jobs[@]}" "$@"
fi
# the CPU suites of a longer schedule or a wider model (SEEDS default 0 1 2)
case "$suite" in
  walltime)
    pairs=(configs/netaug_ssdlite_mbv2_cards_224_72e.py
           configs/ssdlite_mbv2_w035_cards_224_72e.py
           configs/netaug_ssdlite_mbv2_cards_224.py
           configs/ssdlite_mbv2_w035_cards_224_72e.py) ;;
  wide)
    pairs=(configs/netaug_ssdlite_mbv2_w100_cards_224.py
           configs/ssdlite_mbv2_w100_cards_224.py) ;;
  wide_72e)
    pairs=(configs/netaug_ssdlite_mbv2_w100_cards_224_72e.py
           configs/ssdlite_mbv2_w100_cards_224_72e.py) ;;
  yolov3_72e)
    pairs=(configs/netaug_yolov3_mbv2_cards_224_72e.py
           configs/yolov3_mbv2_w035_cards_224_72e.py) ;;
esac
if [ "$suite" != cards ]; then
  # shellcheck disable=SC2086  # SEEDS is a list
  exec "$python" tools/analysis_tools/compare_accuracy.py --pairs "${pairs[@]}" \
    --seeds ${SEEDS:-0 1 2} --work-dir "$out" \
    --out "$out/${suite}_results.json" --plot "$out/${suite}_curves.png" \
    "${cpu_options[@]}" "$@"
fi
if [ "$device" = cuda ]; then
  pairs=(configs/netaug_ssdlite_mbv2_cards.py configs/ssdlite_mbv2_w035_cards.py
         configs/netaug_yolov3_mbv2_cards.py configs/yolov3_mbv2_w035_cards.py
         configs/netaug_ssdlite_mbv2_w100_cards.py configs/ssdlite_mbv2_w100_cards.py)
  options=(--jobs "${JOBS:-8}")
else
  pairs=(configs/netaug_ssdlite_mbv2_cards_224.py configs/ssdlite_mbv2_w035_cards_224.py
         configs/netaug_yolov3_mbv2_cards_224.py configs/yolov3_mbv2_w035_cards_224.py)
  options=("${cpu_options[@]}")
fi
# exec, as the other suites: a signal (gpu_check's timeout, Ctrl-C) reaches
# the comparison itself, which stops its trainings cleanly
# shellcheck disable=SC2086  # SEEDS is a list
exec "$python" tools/analysis_tools/compare_accuracy.py --pairs "${pairs[@]}" \
  --seeds $seeds --work-dir "$out" --out "$out/results.json" \
  --plot "$out/curves.png" "${options[@]}" "$@"
