# Plain SSDLite-MobileNetV2 x0.35 on the cards dataset, with the data and
# schedule of _base_/datasets/cards.py at SSDLite's 320x320.
_base_ = ['./ssdlite_mbv2_w035_coco.py', './_base_/datasets/cards.py']

model = dict(bbox_head=dict(num_classes=6))
# The model config's training pipeline with mmdet's MinIoURandomCrop swapped
# for FastMinIoURandomCrop (mmdet_netaug/datasets/transforms.py): the same
# random draws and crops, several times cheaper on the CPU.
train_pipeline = [
    dict(t, type='FastMinIoURandomCrop')
    if t['type'] == 'MinIoURandomCrop' else t for t in _base_.train_pipeline
]
train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    dataset=dict(
        times=4,
        dataset=dict(_base_.cards_train_dataset, pipeline=train_pipeline)))
val_dataloader = _base_.cards_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.cards_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.cards_train_cfg
param_scheduler = _base_.cards_param_scheduler
default_hooks = _base_.cards_default_hooks
# --auto-scale-lr scales from the batch this lr was measured at (24 on one
# device, ../shared/gpu/README.md), not the COCO recipe's 8 x 24
auto_scale_lr = dict(enable=False, base_batch_size=24)
