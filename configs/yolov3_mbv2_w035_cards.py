# Plain YOLOv3-MobileNetV2 x0.35 at 320 on the cards dataset (363
# photographs, 6 classes, converted to COCO format into data/cards/, see
# README): yolov3_mbv2_w035_320_coco.py's model and pipelines with the data,
# evaluators and schedule of ssdlite_mbv2_w035_cards.py (the train split
# repeated 4 times per epoch, 30 epochs of batch 24 = 1500 iterations, cosine
# decay). YOLOv3's optimiser (SGD lr 0.003, gradient clipping) is kept: its
# losses are summed, not averaged, so SSDLite's lr 0.015 does not carry over.
_base_ = './yolov3_mbv2_w035_320_coco.py'

data_root = 'data/cards/'
classes = ('nine', 'ten', 'jack', 'queen', 'king', 'ace')
metainfo = dict(classes=classes)
model = dict(bbox_head=dict(num_classes=len(classes)))

train_dataloader = dict(
    batch_size=24,
    num_workers=2,
    dataset=dict(
        times=4,
        dataset=dict(
            type='CocoDataset',
            data_root=data_root,
            metainfo=metainfo,
            ann_file='annotations/train.json',
            data_prefix=dict(img='JPEGImages/'))))
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
