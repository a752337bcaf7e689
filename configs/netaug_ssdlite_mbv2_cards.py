# NetAug SSDLite-MobileNetV2 x0.35 on cards: ssdlite_mbv2_w035_cards.py's tiny
# model and data, trained with NetAug's defaults (see netaug_ssdlite_mbv2.py
# for every option).
_base_ = ['./ssdlite_mbv2_w035_cards.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(_base_.netaug_model, detector=detector)
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
