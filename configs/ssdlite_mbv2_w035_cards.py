# Plain SSDLite-MobileNetV2 x0.35 on the cards dataset, with the data and
# schedule of _base_/datasets/cards.py at SSDLite's 320x320.
_base_ = ['./ssdlite_mbv2_w035_coco.py', './_base_/datasets/cards.py']

model = dict(bbox_head=dict(num_classes=6))
train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    dataset=dict(times=4, dataset=_base_.cards_train_dataset))
val_dataloader = _base_.cards_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.cards_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.cards_train_cfg
param_scheduler = _base_.cards_param_scheduler
default_hooks = _base_.cards_default_hooks
