# Plain SSDLite-MobileNetV2 at width 0.35 on COCO 2017: the tiny model that
# netaug_ssdlite_mbv2.py trains with NetAug (the A/B baseline).
_base_ = 'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'

# MobileNetV2 x0.35: layer4 gives 32 channels; its last conv stays 1280 wide
# (mmdet keeps 1280 for widen_factor <= 1). The extra neck levels and the
# head are scaled by 0.35 as well (512/256/256/128 -> 176/88/88/48).
neck_channels = (32, 1280, 176, 88, 88, 48)
model = dict(
    backbone=dict(widen_factor=0.35),
    neck=dict(in_channels=neck_channels[:2], out_channels=neck_channels),
    bbox_head=dict(in_channels=neck_channels))

# Annotation boxes that mmdet's CocoDataset would drop silently (zero size)
# or keep outside the image are dropped or clipped with a warning naming the
# file and the box (mmdet_netaug's CheckedCocoDataset).
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(dataset=dict(type='CheckedCocoDataset')))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
