# NetAug SSDLite-MobileNetV2 at width 1.0 on cards at 224x224 for 72 epochs:
# the NetAug twin of ssdlite_mbv2_w100_cards_224_72e.py (same model, data,
# optimiser, schedule and per-epoch augmentation seeds) with NetAug's
# defaults, as netaug_ssdlite_mbv2_w100_cards_224.py sets them.
_base_ = ['./ssdlite_mbv2_w100_cards_224_72e.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(
    _base_.netaug_model,
    detector=detector,
    trace_input_size=(224, 224))
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
