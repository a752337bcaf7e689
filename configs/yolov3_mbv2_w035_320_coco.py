# Plain YOLOv3-MobileNetV2 at width 0.35 on COCO 2017 at 320x320: the tiny
# model that netaug_yolov3_mbv2_320_coco.py trains with NetAug (the A/B
# baseline). mmdet's 320 config only changes the anchors and the pipelines of
# its 416 config, so the model is yolov3_mbv2_w035_416_coco.py's.
_base_ = 'mmdet::yolo/yolov3_mobilenetv2_8xb24-320-300e_coco.py'

backbone_channels = [16, 32, 112]  # see yolov3_mbv2_w035_416_coco.py
neck_channels = [32, 32, 32]
model = dict(
    backbone=dict(widen_factor=0.35, init_cfg=None),
    neck=dict(
        in_channels=backbone_channels[::-1], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels, out_channels=neck_channels))

# Annotation boxes that mmdet's CocoDataset would drop silently (zero size)
# or keep outside the image are dropped or clipped with a warning naming the
# file and the box (mmdet_netaug's CheckedCocoDataset).
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(dataset=dict(type='CheckedCocoDataset')))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
