# Plain RTMDet-tiny on COCO 2017, exactly mmdet's rtmdet_tiny_8xb32-300e_coco.py
# (CSPNeXt x0.375 with channel attention, CSPNeXtPAFPN, RTMDetSepBNHead with
# convolutions shared across levels, its ImageNet-pretrained backbone, EMA and
# the pipeline switch at epoch 280): the tiny model that
# netaug_rtmdet_tiny_coco.py trains with NetAug (the A/B baseline).
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'

# Annotation boxes that mmdet's CocoDataset would drop silently (zero size)
# or keep outside the image are dropped or clipped with a warning naming the
# file and the box (mmdet_netaug's CheckedCocoDataset).
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
# --auto-scale-lr: mmdet's RTMDet configs inherit base_batch_size=16 from
# schedule_1x.py, but their lr (0.004) is for 8 GPUs x 32 = 256; scaled
# from 16 it would come out 16 times too high
auto_scale_lr = dict(enable=False, base_batch_size=256)
