# NetAug RTMDet-tiny on cards: rtmdet_tiny_cards.py's tiny model and data with
# NetAug's defaults (see netaug_rtmdet_tiny_coco.py).
_base_ = ['./rtmdet_tiny_cards.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(_base_.netaug_model, detector=detector)
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
