# NetAug YOLOv3-MobileNetV2 x0.35 on cards at 224x224 for 72 epochs: the
# NetAug twin of yolov3_mbv2_w035_cards_224_72e.py (same model, data,
# optimiser, schedule and per-epoch augmentation seeds), with NetAug's
# settings as netaug_yolov3_mbv2_cards_224.py sets them.
_base_ = ['./yolov3_mbv2_w035_cards_224_72e.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(
    _base_.netaug_model,
    detector=detector,
    trace_input_size=(224, 224))
custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
optim_wrapper = dict(clip_grad=_base_.netaug_yolov3_clip_grad)
model_wrapper_cfg = dict(
    _base_.netaug_model_wrapper_cfg,
    find_unused_parameters=_base_.find_unused_parameters)
