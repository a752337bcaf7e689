# NetAug SSDLite-MobileNetV2 x0.35 on the generated shapes dataset: the
# quick start (see netaug_ssdlite_mbv2.py for every NetAug option).
_base_ = './ssdlite_mbv2_w035_synthetic.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
detector = _base_.model
detector.backbone = dict(type='NetAugBackbone', backbone=detector.backbone)
model = dict(_delete_=True, type='NetAugDetector', detector=detector)
custom_hooks = _base_.custom_hooks + [
    dict(type='NetAugHook', bn_calibration_batches=10)
]
# Under DDP the tiny and the augmented pass back-propagate one after the
# other (NetAugDetector.separate_backward); the rest is mmengine's default.
model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
