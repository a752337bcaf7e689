# NetAug YOLOX-tiny on COCO 2017: yolox_tiny_coco.py's tiny model, data and
# hooks (YOLOX mode switch, norm sync, EMA), trained with NetAug's defaults
# (see netaug_ssdlite_mbv2.py for every option). NetAugHook's channel sorting
# also permutes EMAHook's averaged copy. In one process the BatchNorm
# statistics it writes into checkpoints are re-estimated for the EMA weights
# saved there; under DDP they are not (a warning says so) and evaluation
# re-estimates them.
_base_ = './yolox_tiny_coco.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
detector = _base_.model
detector.backbone = dict(type='NetAugBackbone', backbone=detector.backbone)
model = dict(_delete_=True, type='NetAugDetector', detector=detector)
custom_hooks = _base_.custom_hooks + [dict(type='NetAugHook')]
# Under DDP the tiny and the augmented pass back-propagate one after the
# other (NetAugDetector.separate_backward); the rest is mmengine's default.
model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
