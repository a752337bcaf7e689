auto_scale_lr = dict(base_batch_size=192, enable=False)
backbone_channels = [
    16,
    32,
    112,
]
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
    dict(type='EpochSeedHook'),
    dict(type='NetAugHook'),
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
    pad_size_divisor=32,
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
        interval=2,
        max_keep_ckpts=1,
        save_best=None,
        type='CheckpointHook'),
    logger=dict(_scope_='mmdet', interval=10, type='LoggerHook'),
    param_scheduler=dict(_scope_='mmdet', type='ParamSchedulerHook'),
    sampler_seed=dict(_scope_='mmdet', type='DistSamplerSeedHook'),
    timer=dict(_scope_='mmdet', type='IterTimerHook'),
    visualization=dict(_scope_='mmdet', type='DetVisualizationHook'))
default_scope = 'mmdet'
detector = dict(
    _scope_='mmdet',
    backbone=dict(
        backbone=dict(
            act_cfg=dict(negative_slope=0.1, type='LeakyReLU'),
            init_cfg=None,
            out_indices=(
                2,
                4,
                6,
            ),
            type='MobileNetV2',
            widen_factor=0.35),
        type='NetAugBackbone'),
    bbox_head=dict(
        anchor_generator=dict(
            base_sizes=[
                [
                    (
                        154,
                        88,
                    ),
                    (
                        90,
                        155,
                    ),
                    (
                        185,
                        186,
                    ),
                ],
                [
                    (
                        24,
                        61,
                    ),
                    (
                        71,
                        67,
                    ),
                    (
                        42,
                        119,
                    ),
                ],
                [
                    (
                        7,
                        10,
                    ),
                    (
                        17,
                        25,
                    ),
                    (
                        50,
                        29,
                    ),
                ],
            ],
            strides=[
                32,
                16,
                8,
            ],
            type='YOLOAnchorGenerator'),
        bbox_coder=dict(type='YOLOBBoxCoder'),
        featmap_strides=[
            32,
            16,
            8,
        ],
        in_channels=[
            32,
            32,
            32,
        ],
        loss_cls=dict(
            loss_weight=1.0,
            reduction='sum',
            type='CrossEntropyLoss',
            use_sigmoid=True),
        loss_conf=dict(
            loss_weight=1.0,
            reduction='sum',
            type='CrossEntropyLoss',
            use_sigmoid=True),
        loss_wh=dict(loss_weight=2.0, reduction='sum', type='MSELoss'),
        loss_xy=dict(
            loss_weight=2.0,
            reduction='sum',
            type='CrossEntropyLoss',
            use_sigmoid=True),
        num_classes=6,
        out_channels=[
            32,
            32,
            32,
        ],
        type='YOLOV3Head'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[
            123.675,
            116.28,
            103.53,
        ],
        pad_size_divisor=32,
        std=[
            58.395,
            57.12,
            57.375,
        ],
        type='DetDataPreprocessor'),
    neck=dict(
        in_channels=[
            112,
            32,
            16,
        ],
        num_scales=3,
        out_channels=[
            32,
            32,
            32,
        ],
        type='YOLOV3Neck'),
    test_cfg=dict(
        conf_thr=0.005,
        max_per_img=100,
        min_bbox_size=0,
        nms=dict(iou_threshold=0.45, type='nms'),
        nms_pre=1000,
        score_thr=0.05),
    train_cfg=dict(
        assigner=dict(
            min_pos_iou=0,
            neg_iou_thr=0.5,
            pos_iou_thr=0.5,
            type='GridAssigner')),
    type='YOLOV3')
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='nccl'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
find_unused_parameters = True
input_size = 224
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(
    _scope_='mmdet', by_epoch=True, type='LogProcessor', window_size=50)
max_epochs = 72
memory_format = 'channels_last'
model = dict(
    detector=dict(
        _scope_='mmdet',
        backbone=dict(
            backbone=dict(
                act_cfg=dict(negative_slope=0.1, type='LeakyReLU'),
                init_cfg=None,
                out_indices=(
                    2,
                    4,
                    6,
                ),
                type='MobileNetV2',
                widen_factor=0.35),
            type='NetAugBackbone'),
        bbox_head=dict(
            anchor_generator=dict(
                base_sizes=[
                    [
                        (
                            154,
                            88,
                        ),
                        (
                            90,
                            155,
                        ),
                        (
                            185,
                            186,
                        ),
                    ],
                    [
                        (
                            24,
                            61,
                        ),
                        (
                            71,
                            67,
                        ),
                        (
                            42,
                            119,
                        ),
                    ],
                    [
                        (
                            7,
                            10,
                        ),
                        (
                            17,
                            25,
                        ),
                        (
                            50,
                            29,
                        ),
                    ],
                ],
                strides=[
                    32,
                    16,
                    8,
                ],
                type='YOLOAnchorGenerator'),
            bbox_coder=dict(type='YOLOBBoxCoder'),
            featmap_strides=[
                32,
                16,
                8,
            ],
            in_channels=[
                32,
                32,
                32,
            ],
            loss_cls=dict(
                loss_weight=1.0,
                reduction='sum',
                type='CrossEntropyLoss',
                use_sigmoid=True),
            loss_conf=dict(
                loss_weight=1.0,
                reduction='sum',
                type='CrossEntropyLoss',
                use_sigmoid=True),
            loss_wh=dict(loss_weight=2.0, reduction='sum', type='MSELoss'),
            loss_xy=dict(
                loss_weight=2.0,
                reduction='sum',
                type='CrossEntropyLoss',
                use_sigmoid=True),
            num_classes=6,
            out_channels=[
                32,
                32,
                32,
            ],
            type='YOLOV3Head'),
        data_preprocessor=dict(
            bgr_to_rgb=True,
            mean=[
                123.675,
                116.28,
                103.53,
            ],
            pad_size_divisor=32,
            std=[
                58.395,
                57.12,
                57.375,
            ],
            type='DetDataPreprocessor'),
        neck=dict(
            in_channels=[
                112,
                32,
                16,
            ],
            num_scales=3,
            out_channels=[
                32,
                32,
                32,
            ],
            type='YOLOV3Neck'),
        test_cfg=dict(
            conf_thr=0.005,
            max_per_img=100,
            min_bbox_size=0,
            nms=dict(iou_threshold=0.45, type='nms'),
            nms_pre=1000,
            score_thr=0.05),
        train_cfg=dict(
            assigner=dict(
                min_pos_iou=0,
                neg_iou_thr=0.5,
                pos_iou_thr=0.5,
                type='GridAssigner')),
        type='YOLOV3'),
    trace_input_size=(
        224,
        224,
    ),
    type='NetAugDetector')
model_wrapper_cfg = dict(
    broadcast_buffers=False,
    find_unused_parameters=True,
    type='NetAugDistributedDataParallel')
neck_channels = [
    32,
    32,
    32,
]
netaug_backbone = dict(type='NetAugBackbone')
netaug_hook = dict(type='NetAugHook')
netaug_imports = dict(
    allow_failed_imports=False, imports=[
        'mmdet_netaug',
    ])
netaug_model = dict(_delete_=True, type='NetAugDetector')
netaug_model_wrapper_cfg = dict(
    broadcast_buffers=False,
    find_unused_parameters=False,
    type='NetAugDistributedDataParallel')
netaug_yolov3_clip_grad = dict(max_norm=70)
optim_wrapper = dict(
    _scope_='mmdet',
    clip_grad=dict(max_norm=70, norm_type=2),
    optimizer=dict(lr=0.003, momentum=0.9, type='SGD', weight_decay=0.0005),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0, by_epoch=False, end=100, start_factor=0.001, type='LinearLR'),
    dict(
        T_max=72,
        begin=0,
        by_epoch=True,
        end=72,
        eta_min=0,
        type='CosineAnnealingLR'),
]
randomness = dict(seed=3)
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
            dict(_scope_='mmdet', backend_args=None, type='LoadImageFromFile'),
            dict(
                _scope_='mmdet',
                keep_ratio=True,
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
    dict(_scope_='mmdet', backend_args=None, type='LoadImageFromFile'),
    dict(_scope_='mmdet', keep_ratio=True, scale=(
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
    _scope_='mmdet', max_epochs=72, type='EpochBasedTrainLoop', val_interval=2)
train_dataloader = dict(
    batch_sampler=dict(_scope_='mmdet', type='AspectRatioBatchSampler'),
    batch_size=8,
    dataset=dict(
        _scope_='mmdet',
        dataset=dict(
            ann_file='annotations/train.json',
            backend_args=None,
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
                dict(
                    _scope_='mmdet',
                    backend_args=None,
                    type='LoadImageFromFile'),
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
                        2,
                    ),
                    to_rgb=True,
                    type='Expand'),
                dict(
                    _scope_='mmdet',
                    min_crop_size=0.3,
                    min_ious=(
                        0.4,
                        0.5,
                        0.6,
                        0.7,
                        0.8,
                        0.9,
                    ),
                    type='FastMinIoURandomCrop'),
                dict(
                    _scope_='mmdet',
                    keep_ratio=True,
                    scale=(
                        224,
                        224,
                    ),
                    type='Resize'),
                dict(_scope_='mmdet', prob=0.5, type='RandomFlip'),
                dict(_scope_='mmdet', type='PhotoMetricDistortion'),
                dict(_scope_='mmdet', type='PackDetInputs'),
            ],
            type='CheckedCocoDataset'),
        times=4,
        type='RepeatDataset'),
    num_workers=2,
    persistent_workers=False,
    sampler=dict(_scope_='mmdet', shuffle=True, type='DefaultSampler'))
train_pipeline = [
    dict(_scope_='mmdet', backend_args=None, type='LoadImageFromFile'),
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
            2,
        ),
        to_rgb=True,
        type='Expand'),
    dict(
        _scope_='mmdet',
        min_crop_size=0.3,
        min_ious=(
            0.4,
            0.5,
            0.6,
            0.7,
            0.8,
            0.9,
        ),
        type='FastMinIoURandomCrop'),
    dict(_scope_='mmdet', keep_ratio=True, scale=(
        224,
        224,
    ), type='Resize'),
    dict(_scope_='mmdet', prob=0.5, type='RandomFlip'),
    dict(_scope_='mmdet', type='PhotoMetricDistortion'),
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
            dict(_scope_='mmdet', backend_args=None, type='LoadImageFromFile'),
            dict(
                _scope_='mmdet',
                keep_ratio=True,
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
work_dir = 'work_dirs/evidence_yolov3_72e/cpu/netaug_yolov3_mbv2_cards_224_72e/seed3'
