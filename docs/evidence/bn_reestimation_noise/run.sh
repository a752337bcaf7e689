#!/bin/bash
# session 15: how much the BN re-estimation's batches move a NetAug checkpoint's test mAP
# (YOLOv3 x0.35 cards 224, seed 4, epoch 30: trained in /work/runs at 1476cb6)
cd /work/runs4
export PYTHONPATH=/work/runs4 OMP_NUM_THREADS=1
ck=/work/runs/work_dirs/evidence/cpu/netaug_yolov3_mbv2_cards_224/seed4/epoch_30.pth
cfg=/work/runs/work_dirs/evidence/cpu/netaug_yolov3_mbv2_cards_224/seed4/netaug_yolov3_mbv2_cards_224.py
for spec in "0 a" "20 a" "20 b" "20 c" "37 a" "37 b" "148 a" "148 b"; do
  read -r n tag <<< "$spec"
  out=/tmp/bn_noise/n${n}_$tag
  rm -rf $out
  /work/main/.venv/bin/python tools/export.py $cfg $ck $out --input-size 224 224 --bn-calibration $n > $out.export.log 2>&1 || { echo "export $n $tag failed"; tail -5 $out.export.log; continue; }
  /work/main/.venv/bin/python tools/test.py $out/*_tiny.py $out/*_tiny.pth --work-dir $out/test > $out.test.log 2>&1
  echo "n=$n draw=$tag $(grep -E 'bbox_mAP_50|pascal_voc/mAP|coco/bbox_mAP:' $out.test.log | tail -2 | tr '\n' ' ' | cut -c1-400)"
done
