# NetAug RTMDet-tiny on COCO 2017: rtmdet_tiny_coco.py's tiny model, data and
# hooks (EMA, pipeline switch), trained with NetAug's defaults (see
# netaug_ssdlite_mbv2.py for every option). The channel attention of the
# CSPNeXt blocks gates a concatenation: its 1x1 convolution takes the
# concatenation's segmented layout, so the tiny model stays the leading
# slice of every segment. The head's convolutions stay shared across levels.
# Its dynamic soft-label assigner looks at the predictions, so targets are
# assigned again for the augmented pass (not reused).
_base_ = ['./rtmdet_tiny_coco.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(_base_.netaug_model, detector=detector)
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
