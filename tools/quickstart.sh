#!/usr/bin/env bash
# The quick start: on the project's generated shapes dataset, train a NetAug
# SSDLite-MobileNetV2 x0.35 and its plain baseline (same seed: the same
# starting tiny weights and data order) on the CPU, evaluate both tiny
# models' COCO mAP and print them side by side, export the NetAug one as a
# plain mmdet model, evaluate the export with the plain config, and say
# where everything went. Run after tools/install.sh
# (`make quickstart` does both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-${VENV:-.venv}/bin/python}
work=${WORK_DIR:-work_dirs/quickstart}
config=configs/netaug_ssdlite_mbv2_synthetic.py
plain_config=configs/ssdlite_mbv2_w035_synthetic.py
name=netaug_ssdlite_mbv2_synthetic

echo "== 1/5 data: generating the shapes dataset in data/synthetic"
"$python" tools/misc/make_synthetic_dataset.py --out data/synthetic

echo "== 2/5 train: $config -> $work"
"$python" tools/train.py "$config" --work-dir "$work" \
  --cfg-options randomness.seed=0
checkpoint=$(cat "$work/last_checkpoint")

echo "== 3/5 train the plain baseline: $plain_config -> $work/plain"
"$python" tools/train.py "$plain_config" --work-dir "$work/plain" \
  --cfg-options randomness.seed=0
plain_checkpoint=$(cat "$work/plain/last_checkpoint")

echo "== 4/5 test both tiny models (COCO mAP)"
"$python" tools/test.py "$config" "$checkpoint" --work-dir "$work/test" \
  > "$work/test.log" 2>&1
"$python" tools/test.py "$plain_config" "$plain_checkpoint" \
  --work-dir "$work/plain/test" > "$work/plain/test.log" 2>&1
"$python" - "$work/test.log" "$work/plain/test.log" <<'PY'
import re, sys
def metrics(log):
    line = [l for l in open(log) if 'coco/bbox_mAP:' in l][-1]
    return {k: 100 * float(v) for k, v in
            re.findall(r'coco/(bbox_mAP(?:_50)?): ([-\d.]+)', line)}
netaug, plain = (metrics(log) for log in sys.argv[1:3])
print(f'{"SSDLite-MobileNetV2 x0.35":<28}{"mAP":>8}{"AP50":>8}')
for label, m in (('NetAug (tiny model)', netaug), ('plain baseline', plain)):
    print(f'{label:<28}{m["bbox_mAP"]:>8.1f}{m["bbox_mAP_50"]:>8.1f}')
print(f'{"NetAug - plain":<28}{netaug["bbox_mAP"] - plain["bbox_mAP"]:>+8.1f}'
      f'{netaug["bbox_mAP_50"] - plain["bbox_mAP_50"]:>+8.1f}')
print('(one seed, 6 short epochs: a smoke test, not evidence. Across '
      'seeds 0-2 this difference ranged from -13.3 to +13.8 mAP; see '
      'docs/benchmarks.md for converged, paired results)')
PY

echo "== 5/5 export: plain mmdet model -> $work/export"
"$python" tools/export.py "$config" "$checkpoint" "$work/export" --force \
  2>&1 | grep -v -E "WARNING|^detector" | tee "$work/export.log" | tail -8
"$python" tools/test.py "$work/export/${name}_tiny.py" \
  "$work/export/${name}_tiny.pth" --work-dir "$work/test_export" \
  2>&1 | tee "$work/test_export.log" | grep -E "coco/bbox_mAP"

cat <<DONE

Done. Where everything went:
  training log and checkpoints  $work/  (last: $checkpoint)
  the plain baseline            $work/plain/  (test: $work/plain/test.log)
  test of the tiny model        $work/test.log
  exported plain mmdet model    $work/export/${name}_tiny.py
                                $work/export/${name}_tiny.pth
  test of the exported model    $work/test_export.log
Deploy the exported pair like any mmdet model (no mmdet_netaug needed).
DONE
