# Plain YOLOX-tiny on the cards dataset (363 photographs, 6 classes,
# converted to COCO format into data/cards/, see README): yolox_tiny_coco.py's
# model, including its multi-scale batch resizing (320-640), with the data,
# evaluators and schedule of ssdlite_mbv2_w035_cards.py (the train split
# repeated 4 times per epoch, 30 epochs of batch 24 = 1500 iterations, cosine
# decay) and YOLOX's optimiser (SGD lr 0.01, Nesterov).
#
# The pipeline is a plain one at 416 (YOLOX-tiny's test size): mmdet's Mosaic
# and MixUp need the MultiImageMixDataset wrapper, which neither repeats the
# data nor lets YOLOXModeSwitchHook switch a RepeatDataset. That hook (it
# only closes Mosaic/MixUp) and EMAHook are left out, as in the other cards
# configs; SyncNormHook stays.
_base_ = './yolox_tiny_coco.py'

data_root = 'data/cards/'
classes = ('nine', 'ten', 'jack', 'queen', 'king', 'ace')
metainfo = dict(classes=classes)
model = dict(bbox_head=dict(num_classes=len(classes)))

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
            type='CocoDataset',
            data_root=data_root,
            metainfo=metainfo,
            ann_file='annotations/train.json',
            data_prefix=dict(img='JPEGImages/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/test.json',
        data_prefix=dict(img='JPEGImages/')))
test_dataloader = val_dataloader
val_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=data_root + 'annotations/test.json',
        metric='bbox'),
    dict(type='VOCMetric', metric='mAP', eval_mode='area')
]
test_evaluator = val_evaluator

max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs,
         end=max_epochs, by_epoch=True, eta_min=0)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=2, save_best='auto'))
custom_hooks = [dict(type='SyncNormHook', priority=48)]
