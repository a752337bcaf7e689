# Plain SSDLite-MobileNetV2 at width 1.0 on cards: the wide control of the
# accuracy comparison (docs/benchmarks.md). NetAug is meant for tiny models
# that underfit; at full width the paper predicts a smaller or negative gain.
# Same data, schedule and evaluation as ssdlite_mbv2_w035_cards.py; the model
# is mmdet's own SSDLite-MobileNetV2 (widen_factor 1.0, its neck and head
# channels) with 6 classes.
_base_ = './ssdlite_mbv2_w035_cards.py'

neck_channels = (96, 1280, 512, 256, 256, 128)  # mmdet's SSDLite defaults
model = dict(
    backbone=dict(widen_factor=1.0),
    neck=dict(in_channels=neck_channels[:2], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))
