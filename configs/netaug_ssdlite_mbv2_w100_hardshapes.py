# NetAug on the underfitting benchmark: ssdlite_mbv2_w100_hardshapes.py's
# model and data with NetAug's defaults (see netaug_ssdlite_mbv2.py).
_base_ = './ssdlite_mbv2_w100_hardshapes.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
detector = _base_.model
detector.backbone = dict(type='NetAugBackbone', backbone=detector.backbone)
model = dict(
    _delete_=True,
    type='NetAugDetector',
    detector=detector,
    trace_input_size=(224, 224))
custom_hooks = _base_.custom_hooks + [dict(type='NetAugHook')]
model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
