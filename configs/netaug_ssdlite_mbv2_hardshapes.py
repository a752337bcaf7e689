# NetAug on the underfitting benchmark: ssdlite_mbv2_w035_hardshapes.py's
# model and data with NetAug's defaults (see netaug_ssdlite_mbv2.py).
_base_ = ['./ssdlite_mbv2_w035_hardshapes.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(
    _base_.netaug_model,
    detector=detector,
    trace_input_size=(224, 224))
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
