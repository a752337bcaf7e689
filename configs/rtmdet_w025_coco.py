# Plain RTMDet at widen_factor 0.25 on COCO 2017: rtmdet_tiny_coco.py (same
# depth, recipe and hooks) narrowed from tiny's 0.375, where NetAug's
# underfitting premise is strongest. Trained from scratch: mmdet publishes no
# ImageNet backbone at this width.
_base_ = './rtmdet_tiny_coco.py'

channels = 64  # neck and head width (tiny: 96)
model = dict(
    backbone=dict(widen_factor=0.25, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256], out_channels=channels),
    bbox_head=dict(in_channels=channels, feat_channels=channels))
