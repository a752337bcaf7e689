# Plain YOLOX-tiny on the cards dataset (363 photographs, 6 classes,
# converted to COCO format into data/cards/, see README): yolox_tiny_coco.py's
# model, including its multi-scale batch resizing (320-640), with the data,
# evaluators and schedule of ssdlite_mbv2_w035_cards.py (the train split
# repeated 4 times per epoch, 30 epochs of batch 24 = 1500 iterations, cosine
# decay) and YOLOX's optimiser (SGD lr 0.01, Nesterov).
#
# The pipeline is a plain one at 416 (YOLOX-tiny's test size): mmdet's Mosaic
# and MixUp need the MultiImageMixDataset wrapper, which neither repeats the
# data nor lets YOLOXModeSwitchHook switch a RepeatDataset. That hook and
# EMAHook are left out, as in the other cards configs; SyncNormHook stays.
# Besides closing Mosaic/MixUp, the mode switch turns on the head's L1 box
# loss (bbox_head.use_l1) for the last epochs: this config trains without
# that stage of mmdet's recipe, in both arms of a comparison alike.
_base_ = ['./yolox_tiny_coco.py', './_base_/datasets/cards.py']

model = dict(bbox_head=dict(num_classes=6))

img_scale = (416, 416)  # width, height
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='Pad',
        pad_to_square=True,
        pad_val=dict(img=(114.0, 114.0, 114.0))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=4,
        dataset=dict(
            _base_.cards_train_dataset,
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=train_pipeline)))
val_dataloader = _base_.cards_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.cards_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.cards_train_cfg
param_scheduler = _base_.cards_param_scheduler
default_hooks = _base_.cards_default_hooks
custom_hooks = [dict(type='SyncNormHook', priority=48)]
# --auto-scale-lr scales from the batch this config trains at (24 on one
# device), not the COCO recipe's 8 x 8
auto_scale_lr = dict(enable=False, base_batch_size=24)
