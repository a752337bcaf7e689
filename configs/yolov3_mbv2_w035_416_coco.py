# Plain YOLOv3-MobileNetV2 at width 0.35 on COCO 2017, multi-scale training
# (320-416) and 416x416 testing: the tiny model that
# netaug_yolov3_mbv2_416_coco.py trains with NetAug (the A/B baseline).
_base_ = 'mmdet::yolo/yolov3_mobilenetv2_8xb24-ms-416-300e_coco.py'

# MobileNetV2 x0.35 (mmdet's make_divisible(c * 0.35, 8), which never goes
# below 90% of c * 0.35): out_indices (2, 4, 6) give 16/32/112 channels
# instead of 32/96/320. The neck and head's 96 channels scale to
# 96 * 0.35 = 33.6 -> 32.
backbone_channels = [16, 32, 112]
neck_channels = [32, 32, 32]
model = dict(
    backbone=dict(
        widen_factor=0.35,
        # mmdet's ImageNet checkpoint is MobileNetV2 x1.0 and does not fit:
        # train from scratch with MobileNetV2's own default initialisation
        # (as the SSDLite baseline does).
        init_cfg=None),
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
