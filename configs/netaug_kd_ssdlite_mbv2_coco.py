# NetAug + knowledge distillation on COCO 2017 (the paper's best recipe):
# netaug_ssdlite_mbv2.py with the teacher of kd_ssdlite_mbv2_coco.py
# (mmdet's SSDLite-MobileNetV2 and its model-zoo checkpoint). The tiny pass
# adds the kd_* losses; the augmented pass keeps its own losses
# (distill_aug=False, see docs/benchmarks.md, "Distillation").
# tools/export.py exports the tiny model alone, without the teacher.
_base_ = './netaug_ssdlite_mbv2.py'
model = dict(
    distill=dict(
        teacher_config='mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
        teacher_checkpoint='https://download.openmmlab.com/mmdetection/v2.0/ssd/ssdlite_mobilenetv2_scratch_600e_coco/ssdlite_mobilenetv2_scratch_600e_coco_20210629_110627-974d9307.pth',  # noqa: E501
        distill_aug=False))
