# Plain YOLOv3-MobileNetV2 at width 1.0 on cards: the distillation teacher of
# the YOLOv3 x0.35 cards configs (kd_yolov3_mbv2_cards.py). mmdet's own
# YOLOv3-MobileNetV2 model (its backbone, neck and head channels) with the
# data and schedule of yolov3_mbv2_w035_cards.py.
_base_ = './yolov3_mbv2_w035_cards.py'

backbone_channels = [32, 96, 320]  # mmdet's yolov3_mobilenetv2 defaults
neck_channels = [96, 96, 96]
model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(
        in_channels=backbone_channels[::-1], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels, out_channels=neck_channels))
