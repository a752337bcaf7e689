# Plain RTMDet x0.25 on cards: rtmdet_tiny_cards.py narrowed like
# rtmdet_w025_coco.py (widen_factor 0.25, neck and head 64 channels).
_base_ = './rtmdet_tiny_cards.py'

channels = 64
model = dict(
    backbone=dict(widen_factor=0.25),
    neck=dict(in_channels=[64, 128, 256], out_channels=channels),
    bbox_head=dict(in_channels=channels, feat_channels=channels))
