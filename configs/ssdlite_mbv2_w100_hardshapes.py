# Plain SSDLite-MobileNetV2 at width 1.0 on the underfitting benchmark: the
# wide control (mmdet's own SSDLite neck and head channels), same data,
# schedule and evaluation as ssdlite_mbv2_w035_hardshapes.py.
_base_ = './ssdlite_mbv2_w035_hardshapes.py'

neck_channels = (96, 1280, 512, 256, 256, 128)  # mmdet's SSDLite defaults
model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(in_channels=neck_channels[:2], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))
