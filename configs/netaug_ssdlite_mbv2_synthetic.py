# NetAug SSDLite-MobileNetV2 x0.35 on the generated shapes dataset: the
# quick start (see netaug_ssdlite_mbv2.py for every NetAug option).
_base_ = ['./ssdlite_mbv2_w035_synthetic.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(_base_.netaug_model, detector=detector)
custom_hooks = _base_.custom_hooks + [
    dict(_base_.netaug_hook, bn_calibration_batches=10)
]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
