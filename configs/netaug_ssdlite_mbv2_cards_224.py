# NetAug SSDLite-MobileNetV2 x0.35 on cards at 224x224 (the CPU protocol of
# docs/benchmarks.md, with compare_accuracy.py --batch-size 8
# --val-interval 2; not converged at these 30 epochs):
# ssdlite_mbv2_w035_cards_224.py's tiny model and data with NetAug's
# defaults (see netaug_ssdlite_mbv2.py).
_base_ = ['./ssdlite_mbv2_w035_cards_224.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(
    _base_.netaug_model,
    detector=detector,
    trace_input_size=(224, 224))
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
