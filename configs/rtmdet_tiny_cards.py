# Plain RTMDet-tiny on the cards dataset (363 photographs, 6 classes,
# converted to COCO format into data/cards/, see README): rtmdet_tiny_coco.py's
# model and optimiser (AdamW lr 0.004, not tuned on cards) with the data,
# evaluators and schedule of ssdlite_mbv2_w035_cards.py (the train split
# repeated 4 times per epoch, 30 epochs of batch 24 = 1500 iterations, cosine
# decay), at 320x320.
#
# Trained from scratch like the other cards configs (the ImageNet backbone is
# a download). The pipeline is a plain one: mmdet's Mosaic/MixUp stage and
# the PipelineSwitchHook that closes it are for 300 COCO epochs, and EMAHook
# is left out as in the other cards configs.
_base_ = ['./rtmdet_tiny_coco.py', './_base_/datasets/cards.py']

model = dict(backbone=dict(init_cfg=None), bbox_head=dict(num_classes=6))

img_scale = (320, 320)  # width, height
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.25),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=img_scale),
    dict(type='YOLOXHSVRandomAug'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    dataset=dict(
        _delete_=True,
        type='RepeatDataset',
        times=4,
        dataset=dict(_base_.cards_train_dataset, pipeline=train_pipeline)))
val_dataloader = dict(
    _base_.cards_test_dataloader,
    dataset=dict(_base_.cards_test_dataloader.dataset,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = _base_.cards_evaluator
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop',
                 **_base_.cards_train_cfg)
param_scheduler = _base_.cards_param_scheduler
default_hooks = _base_.cards_default_hooks
custom_hooks = []
# --auto-scale-lr scales from the batch this config trains at (24 on one
# device)
auto_scale_lr = dict(enable=False, base_batch_size=24)
