# NetAug YOLOv3-MobileNetV2 x0.35 on COCO 2017 at 320: yolov3_mbv2_w035_320_coco.py's
# tiny model and data, trained with NetAug's defaults (see
# netaug_ssdlite_mbv2.py for every option).
_base_ = './yolov3_mbv2_w035_320_coco.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
detector = _base_.model
detector.backbone = dict(type='NetAugBackbone', backbone=detector.backbone)
model = dict(_delete_=True, type='NetAugDetector', detector=detector)
custom_hooks = [dict(type='NetAugHook')]  # mmdet's YOLOv3 config has none
# YOLOv3 clips the gradient norm at 35, and its summed losses keep the norm
# far above that (hundreds), so the clip fixes the size of every update.
# NetAug's loss adds an augmented term about as large as the tiny one: at
# the same clip it would take half of the tiny model's step (measured: the
# tiny model then fits worse and scores lower, docs/benchmarks.md).
# Clip at 35 * (1 + alpha).
optim_wrapper = dict(clip_grad=dict(max_norm=70))
# Under DDP the tiny and the augmented pass back-propagate one after the
# other (NetAugDetector.separate_backward); the rest is mmengine's default.
model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=_base_.find_unused_parameters)
