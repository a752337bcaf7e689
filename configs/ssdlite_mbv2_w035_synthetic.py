# Plain SSDLite-MobileNetV2 x0.35 on the project's generated shapes dataset
# (tools/misc/make_synthetic_dataset.py -> data/synthetic): the quick start's
# data, small enough to train on 2 CPU cores in minutes.
_base_ = './ssdlite_mbv2_w035_coco.py'

data_root = 'data/synthetic/'
classes = ('circle', 'square', 'triangle')
metainfo = dict(classes=classes)
model = dict(bbox_head=dict(num_classes=len(classes)))

# Images are 160x160; resizing them to SSDLite's 320 input keeps mmdet's
# anchor design. Light augmentation: the run is short.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(320, 320), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        times=1,
        dataset=dict(
            type='CocoDataset',
            data_root=data_root,
            metainfo=metainfo,
            ann_file='annotations/train.json',
            data_prefix=dict(img='images/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=8),
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=25),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs,
         end=max_epochs, by_epoch=True, eta_min=0)
]
optim_wrapper = dict(optimizer=dict(lr=0.05))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
# --auto-scale-lr scales from the batch this lr was chosen for (8)
auto_scale_lr = dict(enable=False, base_batch_size=8)
