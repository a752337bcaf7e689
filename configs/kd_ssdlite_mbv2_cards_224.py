# Knowledge distillation only (the KD arm of the four-arm comparison in
# docs/benchmarks.md): SSDLite-MobileNetV2 x0.35 on cards at 224x224 trained with its own losses
# plus the kd_* losses towards a frozen teacher (mmdet_netaug's
# DistilledSingleStageDetector; every option in its docstring). The teacher
# is trained first with its plain config (README, "Distillation"):
#   python tools/train.py configs/ssdlite_mbv2_w100_cards_224.py
# Checkpoints hold the student alone and load strictly into
# ssdlite_mbv2_w035_cards_224.py.
_base_ = './ssdlite_mbv2_w035_cards_224.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
model = dict(
    type='DistilledSingleStageDetector',
    distill=dict(
        teacher_config='configs/ssdlite_mbv2_w100_cards_224.py',
        teacher_checkpoint='work_dirs/ssdlite_mbv2_w100_cards_224/epoch_30.pth',
        cls_weight=1.0,  # kd_loss_cls (and kd_loss_obj for YOLOv3)
        bbox_weight=1.0,  # kd_loss_bbox, where the teacher is confident
        temperature=1.0,
        conf_threshold=0.5))
