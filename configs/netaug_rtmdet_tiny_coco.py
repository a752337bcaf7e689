# NetAug RTMDet-tiny on COCO 2017: rtmdet_tiny_coco.py's tiny model, data and
# hooks (EMA, pipeline switch), trained with NetAug's defaults (see
# netaug_ssdlite_mbv2.py for every option). The channel attention of the
# CSPNeXt blocks gates a concatenation: its 1x1 convolution takes the
# concatenation's segmented layout, so the tiny model stays the leading
# slice of every segment. The head's convolutions stay shared across levels.
# Its dynamic soft-label assigner looks at the predictions, so targets are
# assigned again for the augmented pass (not reused).
_base_ = './rtmdet_tiny_coco.py'
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
