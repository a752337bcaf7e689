# NetAug YOLOX-tiny on COCO 2017: yolox_tiny_coco.py's tiny model, data and
# hooks (YOLOX mode switch, norm sync, EMA), trained with NetAug's defaults
# (see netaug_ssdlite_mbv2.py for every option). NetAugHook's channel sorting
# also permutes EMAHook's averaged copy. The BatchNorm statistics written
# into the scheduled checkpoints are re-estimated for the EMA weights saved
# there, on every rank under DDP too; only a save outside the CheckpointHook
# schedule in distributed training keeps older ones (a warning says so, and
# evaluation re-estimates them).
_base_ = ['./yolox_tiny_coco.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(_base_.netaug_model, detector=detector)
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
