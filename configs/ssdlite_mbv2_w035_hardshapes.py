# Plain SSDLite-MobileNetV2 x0.35 on the generated underfitting benchmark
# (24 classes told apart by shape, fill texture and hue; clutter, occlusion,
# 20,000 training images of 192x192: python tools/misc/make_synthetic_dataset.py
# --variant hard -> data/hard_shapes). NetAug's premise is a tiny model that
# underfits large data; ssdlite_mbv2_w100_hardshapes.py is the wide control.
# Input 224x224 (anchors as in ssdlite_mbv2_w035_cards_224.py), light
# augmentation (flip only), 12 epochs with cosine decay.
_base_ = './ssdlite_mbv2_w035_coco.py'

data_root = 'data/hard_shapes/'
classes = tuple(f'{hue}_{fill}_{shape}'
                for shape in ('circle', 'square', 'triangle', 'diamond',
                              'star', 'cross')
                for fill in ('solid', 'striped') for hue in ('warm', 'cool'))
metainfo = dict(classes=classes)
input_size = 224
model = dict(
    bbox_head=dict(
        num_classes=len(classes),
        anchor_generator=dict(
            input_size=input_size, strides=[16, 32, 56, 112, 224, 224])))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(
        times=1,
        dataset=dict(
            type='CheckedCocoDataset',
            data_root=data_root,
            metainfo=metainfo,
            ann_file='annotations/train.json',
            data_prefix=dict(img='images/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=2),
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/val.json',
        data_prefix=dict(img='images/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

max_epochs = 12
train_cfg = dict(max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=300),
    dict(type='CosineAnnealingLR', begin=0, T_max=max_epochs,
         end=max_epochs, by_epoch=True, eta_min=0)
]
optim_wrapper = dict(optimizer=dict(lr=0.03))
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=1, max_keep_ckpts=2))
# --auto-scale-lr scales from the batch this lr was chosen for (32)
auto_scale_lr = dict(enable=False, base_batch_size=32)
