# NetAug YOLOv3-MobileNetV2 x0.35 on COCO 2017 at 416: yolov3_mbv2_w035_416_coco.py's
# tiny model and data, trained with NetAug's defaults (see
# netaug_ssdlite_mbv2.py for every option).
_base_ = './yolov3_mbv2_w035_416_coco.py'
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
detector = _base_.model
detector.backbone = dict(type='NetAugBackbone', backbone=detector.backbone)
model = dict(_delete_=True, type='NetAugDetector', detector=detector)
custom_hooks = [dict(type='NetAugHook')]  # mmdet's YOLOv3 config has none
# Under DDP the tiny and the augmented pass back-propagate one after the
# other (NetAugDetector.separate_backward); the rest is mmengine's default.
model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=_base_.find_unused_parameters)
