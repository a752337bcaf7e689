# Plain SSDLite-MobileNetV2 at width 1.0 on Pascal VOC 07+12: the
# distillation teacher of kd_ssdlite_mbv2_voc0712.py and
# netaug_kd_ssdlite_mbv2_voc0712.py (mmdet's SSDLite model with 20 classes,
# ssdlite_mbv2_w035_voc0712.py's data and schedule).
_base_ = './ssdlite_mbv2_w035_voc0712.py'

neck_channels = (96, 1280, 512, 256, 256, 128)  # mmdet's SSDLite defaults
model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(in_channels=neck_channels[:2], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))
