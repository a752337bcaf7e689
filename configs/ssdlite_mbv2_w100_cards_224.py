# Plain SSDLite-MobileNetV2 at width 1.0 on cards at 224x224: the wide
# control and the distillation teacher of the CPU protocol (docs/
# benchmarks.md). ssdlite_mbv2_w100_cards.py's model with
# ssdlite_mbv2_w035_cards_224.py's input size, anchors and data.
_base_ = './ssdlite_mbv2_w035_cards_224.py'

neck_channels = (96, 1280, 512, 256, 256, 128)  # mmdet's SSDLite defaults
model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(in_channels=neck_channels[:2], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))
