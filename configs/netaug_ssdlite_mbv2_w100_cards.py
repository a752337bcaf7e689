# NetAug SSDLite-MobileNetV2 at width 1.0 on cards: the wide control of the
# accuracy comparison, ssdlite_mbv2_w100_cards.py's model and data trained
# with NetAug's defaults (see netaug_ssdlite_mbv2.py for every option).
_base_ = './ssdlite_mbv2_w100_cards.py'
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
