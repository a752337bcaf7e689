auto_scale_lr = dict(base_batch_size=192, enable=False)
backend_args = None
cards_data_root = 'data/cards/'
cards_default_hooks = dict(
    checkpoint=dict(interval=5, max_keep_ckpts=2, save_best='auto'),
    logger=dict(interval=10))
cards_evaluator = [
    dict(
        ann_file='data/cards/annotations/test.json',
        metric='bbox',
        type='CocoMetric'),
    dict(eval_mode='area', metric='mAP', type='VOCMetric'),
]
cards_max_epochs = 30
cards_metainfo = dict(
    classes=(
        'nine',
        'ten',
        'jack',
        'queen',
        'king',
        'ace',
    ))
cards_param_scheduler = [
    dict(
        begin=0, by_epoch=False, end=100, start_factor=0.001, type='LinearLR'),
    dict(
        T_max=30,
        begin=0,
        by_epoch=True,
        end=30,
        eta_min=0,
        type='CosineAnnealingLR'),
]
cards_test_dataloader = dict(
    batch_size=8,
    dataset=dict(
        ann_file='annotations/test.json',
        data_prefix=dict(img='JPEGImages/'),
        data_root='data/cards/',
        metainfo=dict(
            classes=(
                'nine',
                'ten',
                'jack',
                'queen',
                'king',
                'ace',
            )),
        type='CheckedCocoDataset'),
    num_workers=2)
cards_train_cfg = dict(max_epochs=30, val_interval=5)
cards_train_dataset = dict(
    ann_file='annotations/train.json',
    data_prefix=dict(img='JPEGImages/'),
    data_root='data/cards/',
    metainfo=dict(classes=(
        'nine',
        'ten',
        'jack',
        'queen',
        'king',
        'ace',
    )),
    type='CheckedCocoDataset')
custom_hooks = [
    dict(_scope_='mmdet', type='NumClassCheckHook'),
    dict(
        _scope_='mmdet',
        interval=50,
        priority='VERY_LOW',
        type='CheckInvalidLossHook'),
]
custom_imports = dict(
    allow_failed_imports=False, imports=[
        'mmdet_netaug',
    ])
data_preprocessor = dict(
    _scope_='mmdet',
    bgr_to_rgb=True,
    mean=[
        123.675,
        116.28,
        103.53,
    ],
    pad_size_divisor=1,
    std=[
        58.395,
        57.12,
        57.375,
    ],
    type='DetDataPreprocessor')
data_root = 'data/coco/'
dataset_type = 'CocoDataset'
default_hooks = dict(
    checkpoint=dict(
        _scope_='mmdet',
        interval=5,
        max_keep_ckpts=2,
        save_best='auto',
        type='CheckpointHook'),
    logger=dict(_scope_='mmdet', interval=10, type='LoggerHook'),
    param_scheduler=dict(_scope_='mmdet', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmdet', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmdet', type='IterTimerHook'),
    visualization=dict(_scope_='mmdet', type='DetVisualizationHook'))
default_scope = 'mmdet'
env_cfg = dict(
    cudnn_benchmark=True,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
input_size = 224
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(
    _scope_='mmdet', by_epoch=True, type='LogProcessor', window_size=50)
max_epochs = 120
model = dict(
    _scope_='mmdet',
    backbone=dict(
        init_cfg=dict(layer='Conv2d', std=0.03, type='TruncNormal'),
        norm_cfg=dict(eps=0.001, momentum=0.03, type='BN'),
        out_indices=(
            4,
            7,
        ),
        type='MobileNetV2',
        widen_factor=1.0),
    bbox_head=dict(
        act_cfg=dict(type='ReLU6'),
        anchor_generator=dict(
            input_size=224,
            max_sizes=[
                100,
                150,
                202,
                253,
                304,
                320,
            ],
            min_sizes=[
                48,
                100,
                150,
                202,
                253,
                304,
            ],
            ratios=[
                [
                    2,
                    3,
                ],
                [
                    2,
                    3,
                ],
                [
                    2,
                    3,
                ],
                [
                    2,
                    3,
                ],
                [
                    2,
                    3,
                ],
                [
                    2,
                    3,
                ],
            ],
            scale_major=False,
            strides=[
                16,
                32,
                56,
                112,
                224,
                224,
            ],
            type='SSDAnchorGenerator'),
        bbox_coder=dict(
            target_means=[
                0.0,
                0.0,
                0.0,
                0.0,
            ],
            target_stds=[
                0.1,
                0.1,
                0.2,
                0.2,
            ],
            type='DeltaXYWHBBoxCoder'),
        in_channels=(
            96,
            1280,
            512,
            256,
            256,
            128,
        ),
        init_cfg=dict(layer='Conv2d', std=0.001, type='Normal'),
        norm_cfg=dict(eps=0.001, momentum=0.03, type='BN'),
        num_classes=6,
        type='SSDHead',
        use_depthwise=True),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        pad_size_divisor=1,
        std=[
            58.395,
            57.12,
            57.375,
        ],
        type='DetDataPreprocessor'),
    neck=dict(
        act_cfg=dict(type='ReLU6'),
        in_channels=(
            96,
            1280,
        ),
        init_cfg=dict(layer='Conv2d', std=0.03, type='TruncNormal'),
        l2_norm_scale=None,
        level_paddings=(
            1,
            1,
            1,
            1,
        ),
        level_strides=(
            2,
            2,
            2,
            2,
        ),
        norm_cfg=dict(eps=0.001, momentum=0.03, type='BN'),
        out_channels=(
            96,
            1280,
            512,
            256,
            256,
            128,
        ),
        type='SSDNeck',
        use_depthwise=True),
    test_cfg=dict(
        max_per_img=200,
        min_bbox_size=0,
        nms=dict(iou_threshold=0.45, type='nms'),
        nms_pre=1000,
        score_thr=0.02),
    train_cfg=dict(
        allowed_border=-1,
        assigner=dict(
            gt_max_assign_all=False,
            ignore_iof_thr=-1,
            min_pos_iou=0.0,
            neg_iou_thr=0.5,
            pos_iou_thr=0.5,
            type='MaxIoUAssigner'),
        debug=False,
        neg_pos_ratio=3,
        pos_weight=-1,
        sampler=dict(type='PseudoSampler'),
        smoothl1_beta=1.0),
    type='SingleStageDetector')
neck_channels = (
    96,
    1280,
    512,
    256,
    256,
    128,
)
optim_wrapper = dict(
    _scope_='mmdet',
    optimizer=dict(lr=0.015, momentum=0.9, type='SGD', weight_decay=4e-05),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0, by_epoch=False, end=100, start_factor=0.001, type='LinearLR'),
    dict(
        T_max=30,
        begin=0,
        by_epoch=True,
        end=30,
        eta_min=0,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=0)
resume = True
test_cfg = dict(_scope_='mmdet', type='TestLoop')
test_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _scope_='mmdet',
        ann_file='annotations/test.json',
        backend_args=None,
        data_prefix=dict(img='JPEGImages/'),
        data_root='data/cards/',
        metainfo=dict(
            classes=(
                'nine',
                'ten',
                'jack',
                'queen',
                'king',
                'ace',
            )),
        pipeline=[
            dict(_scope_='mmdet', type='LoadImageFromFile'),
            dict(
                _scope_='mmdet',
                keep_ratio=False,
                scale=(
                    224,
                    224,
                ),
                type='Resize'),
            dict(_scope_='mmdet', type='LoadAnnotations', with_bbox=True),
            dict(
                _scope_='mmdet',
                meta_keys=(
                    'img_id',
                    'img_path',
                    'ori_shape',
                    'img_shape',
                    'scale_factor',
                ),
                type='PackDetInputs'),
        ],
        test_mode=True,
        type='CheckedCocoDataset'),
    drop_last=False,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(_scope_='mmdet', shuffle=False, type='DefaultSampler'))
test_evaluator = [
    dict(
        ann_file='data/cards/annotations/test.json',
        metric='bbox',
        type='CocoMetric'),
    dict(eval_mode='area', metric='mAP', type='VOCMetric'),
]
test_pipeline = [
    dict(_scope_='mmdet', type='LoadImageFromFile'),
    dict(_scope_='mmdet', keep_ratio=False, scale=(
        224,
        224,
    ), type='Resize'),
    dict(_scope_='mmdet', type='LoadAnnotations', with_bbox=True),
    dict(
        _scope_='mmdet',
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'scale_factor',
        ),
        type='PackDetInputs'),
]
train_cfg = dict(
    _scope_='mmdet', max_epochs=30, type='EpochBasedTrainLoop', val_interval=5)
train_dataloader = dict(
    batch_sampler=None,
    batch_size=8,
    dataset=dict(
        _scope_='mmdet',
        dataset=dict(
            ann_file='annotations/train.json',
            data_prefix=dict(img='JPEGImages/'),
            data_root='data/cards/',
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            metainfo=dict(
                classes=(
                    'nine',
                    'ten',
                    'jack',
                    'queen',
                    'king',
                    'ace',
                )),
            pipeline=[
                dict(_scope_='mmdet', type='LoadImageFromFile'),
                dict(_scope_='mmdet', type='LoadAnnotations', with_bbox=True),
                dict(
                    _scope_='mmdet',
                    mean=[
                        123.675,
                        116.28,
                        103.53,
                    ],
                    ratio_range=(
                        1,
                        4,
                    ),
                    to_rgb=True,
                    type='Expand'),
                dict(
                    _scope_='mmdet',
                    min_crop_size=0.3,
                    min_ious=(
                        0.1,
                        0.3,
                        0.5,
                        0.7,
                        0.9,
                    ),
                    type='MinIoURandomCrop'),
                dict(
                    _scope_='mmdet',
                    keep_ratio=False,
                    scale=(
                        224,
                        224,
                    ),
                    type='Resize'),
                dict(_scope_='mmdet', prob=0.5, type='RandomFlip'),
                dict(
                    _scope_='mmdet',
                    brightness_delta=32,
                    contrast_range=(
                        0.5,
                        1.5,
                    ),
                    hue_delta=18,
                    saturation_range=(
                        0.5,
                        1.5,
                    ),
                    type='PhotoMetricDistortion'),
                dict(_scope_='mmdet', type='PackDetInputs'),
            ],
            type='CheckedCocoDataset'),
        times=4,
        type='RepeatDataset'),
    num_workers=2,
    persistent_workers=True,
    sampler=dict(_scope_='mmdet', shuffle=True, type='DefaultSampler'))
train_pipeline = [
    dict(_scope_='mmdet', type='LoadImageFromFile'),
    dict(_scope_='mmdet', type='LoadAnnotations', with_bbox=True),
    dict(
        _scope_='mmdet',
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        ratio_range=(
            1,
            4,
        ),
        to_rgb=True,
        type='Expand'),
    dict(
        _scope_='mmdet',
        min_crop_size=0.3,
        min_ious=(
            0.1,
            0.3,
            0.5,
            0.7,
            0.9,
        ),
        type='MinIoURandomCrop'),
    dict(_scope_='mmdet', keep_ratio=False, scale=(
        224,
        224,
    ), type='Resize'),
    dict(_scope_='mmdet', prob=0.5, type='RandomFlip'),
    dict(
        _scope_='mmdet',
        brightness_delta=32,
        contrast_range=(
            0.5,
            1.5,
        ),
        hue_delta=18,
        saturation_range=(
            0.5,
            1.5,
        ),
        type='PhotoMetricDistortion'),
    dict(_scope_='mmdet', type='PackDetInputs'),
]
val_cfg = dict(_scope_='mmdet', type='ValLoop')
val_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _scope_='mmdet',
        ann_file='annotations/test.json',
        backend_args=None,
        data_prefix=dict(img='JPEGImages/'),
        data_root='data/cards/',
        metainfo=dict(
            classes=(
                'nine',
                'ten',
                'jack',
                'queen',
                'king',
                'ace',
            )),
        pipeline=[
            dict(_scope_='mmdet', type='LoadImageFromFile'),
            dict(
                _scope_='mmdet',
                keep_ratio=False,
                scale=(
                    224,
                    224,
                ),
                type='Resize'),
            dict(_scope_='mmdet', type='LoadAnnotations', with_bbox=True),
            dict(
                _scope_='mmdet',
                meta_keys=(
                    'img_id',
                    'img_path',
                    'ori_shape',
                    'img_shape',
                    'scale_factor',
                ),
                type='PackDetInputs'),
        ],
        test_mode=True,
        type='CheckedCocoDataset'),
    drop_last=False,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(_scope_='mmdet', shuffle=False, type='DefaultSampler'))
val_evaluator = [
    dict(
        ann_file='data/cards/annotations/test.json',
        metric='bbox',
        type='CocoMetric'),
    dict(eval_mode='area', metric='mAP', type='VOCMetric'),
]
vis_backends = [
    dict(_scope_='mmdet', type='LocalVisBackend'),
]
visualizer = dict(
    _scope_='mmdet',
    name='visualizer',
    type='DetLocalVisualizer',
    vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = 'work_dirs/ssdlite_mbv2_w100_cards_224'
