#!/usr/bin/env bash
# The quick start: on the project's generated shapes dataset, train a NetAug
# SSDLite-MobileNetV2 x0.35 on the CPU, evaluate the tiny model's COCO mAP,
# export it as a plain mmdet model, evaluate the export with the plain
# config, and say where everything went. Run after tools/install.sh
# (`make quickstart` does both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-.venv/bin/python}
work=${WORK_DIR:-work_dirs/quickstart}
config=configs/netaug_ssdlite_mbv2_synthetic.py
name=netaug_ssdlite_mbv2_synthetic

echo "== 1/4 data: generating the shapes dataset in data/synthetic"
"$python" tools/misc/make_synthetic_dataset.py --out data/synthetic

echo "== 2/4 train: $config -> $work"
"$python" tools/train.py "$config" --work-dir "$work"
checkpoint=$(cat "$work/last_checkpoint")

echo "== 3/4 test: the tiny model of $checkpoint (COCO mAP)"
"$python" tools/test.py "$config" "$checkpoint" --work-dir "$work/test" \
  2>&1 | tee "$work/test.log" | grep -E "Average (Precision|Recall)|coco/bbox_mAP"

echo "== 4/4 export: plain mmdet model -> $work/export"
"$python" tools/export.py "$config" "$checkpoint" "$work/export" \
  2>&1 | grep -v -E "WARNING|^detector" | tee "$work/export.log" | tail -8
"$python" tools/test.py "$work/export/${name}_tiny.py" \
  "$work/export/${name}_tiny.pth" --work-dir "$work/test_export" \
  2>&1 | tee "$work/test_export.log" | grep -E "coco/bbox_mAP"

cat <<DONE

Done. Where everything went:
  training log and checkpoints  $work/  (last: $checkpoint)
  test of the tiny model        $work/test.log
  exported plain mmdet model    $work/export/${name}_tiny.py
                                $work/export/${name}_tiny.pth
  test of the exported model    $work/test_export.log
Deploy the exported pair like any mmdet model (no mmdet_netaug needed).
DONE
