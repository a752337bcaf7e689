# NetAug YOLOv3-MobileNetV2 x0.35 at 416 on voc0712: yolov3_mbv2_w035_416_voc0712.py's
# tiny model and data, trained with NetAug's defaults (see
# netaug_ssdlite_mbv2.py for every option).
_base_ = ['./yolov3_mbv2_w035_416_voc0712.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports
detector = _base_.model
detector.backbone = dict(_base_.netaug_backbone, backbone=detector.backbone)
model = dict(_base_.netaug_model, detector=detector)
custom_hooks = [_base_.netaug_hook]  # mmdet's YOLOv3 config has none
optim_wrapper = dict(clip_grad=_base_.netaug_yolov3_clip_grad)
model_wrapper_cfg = dict(
    _base_.netaug_model_wrapper_cfg,
    find_unused_parameters=_base_.find_unused_parameters)
