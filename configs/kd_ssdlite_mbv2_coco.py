# Knowledge distillation only on COCO 2017: SSDLite-MobileNetV2 x0.35
# (ssdlite_mbv2_w035_coco.py) trained with its own losses plus the kd_*
# losses towards a frozen teacher (mmdet_netaug's
# DistilledSingleStageDetector; every option in its docstring). The teacher
# is mmdet's own SSDLite-MobileNetV2 at width 1.0 and its model-zoo
# checkpoint (21.3 box AP in mmdet's metafile), downloaded on first use; a
# teacher trained here works the same way (teacher_checkpoint=<its .pth>).
# Checkpoints hold the student alone and load strictly into
# ssdlite_mbv2_w035_coco.py.
_base_ = './ssdlite_mbv2_w035_coco.py'
model = dict(
    type='DistilledSingleStageDetector',
    distill=dict(
        teacher_config='mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py',
        teacher_checkpoint='https://download.openmmlab.com/mmdetection/v2.0/ssd/ssdlite_mobilenetv2_scratch_600e_coco/ssdlite_mobilenetv2_scratch_600e_coco_20210629_110627-974d9307.pth',  # noqa: E501
        cls_weight=1.0,  # kd_loss_cls
        bbox_weight=1.0,  # kd_loss_bbox, where the teacher is confident
        temperature=1.0,
        conf_threshold=0.5))
