# NetAug RTMDet x0.25 on cards: rtmdet_w025_cards.py's tiny model and data with
# NetAug's defaults (see netaug_rtmdet_tiny_coco.py).
_base_ = './rtmdet_w025_cards.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
detector = _base_.model
detector.backbone = dict(type='NetAugBackbone', backbone=detector.backbone)
model = dict(_delete_=True, type='NetAugDetector', detector=detector)
custom_hooks = _base_.custom_hooks + [dict(type='NetAugHook')]
model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
