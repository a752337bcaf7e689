# Plain YOLOv3-MobileNetV2 x0.35 at 320 on Pascal VOC 07+12 (trainval), tested
# on VOC2007 test: yolov3_mbv2_w035_320_coco.py's model with the data layout of
# ssdlite_mbv2_w035_voc0712.py (VOC converted once to COCO format with
# tools/dataset_converters/voc_to_coco.py, see README, so that both VOC AP50
# and COCO mAP are reported).
_base_ = './yolov3_mbv2_w035_320_coco.py'

data_root = 'data/VOCdevkit/'
classes = ('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
           'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike',
           'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')
metainfo = dict(classes=classes)
model = dict(bbox_head=dict(num_classes=len(classes)))

train_pipeline = _base_.train_pipeline
test_pipeline = _base_.test_pipeline
voc_train = dict(
    type='CocoDataset',
    data_root=data_root,
    metainfo=metainfo,
    filter_cfg=dict(filter_empty_gt=True, min_size=32),
    pipeline=train_pipeline)
train_dataloader = dict(
    dataset=dict(
        times=5,
        dataset=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[
                dict(
                    voc_train,
                    ann_file='annotations/voc07_trainval.json',
                    data_prefix=dict(img='VOC2007/JPEGImages/')),
                dict(
                    voc_train,
                    ann_file='annotations/voc12_trainval.json',
                    data_prefix=dict(img='VOC2012/JPEGImages/')),
            ])))
val_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/voc07_test.json',
        data_prefix=dict(img='VOC2007/JPEGImages/'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='VOCMetric', metric='mAP', eval_mode='11points'),
    dict(
        type='CocoMetric',
        ann_file=data_root + 'annotations/voc07_test.json',
        metric='bbox')
]
test_evaluator = val_evaluator

# VOC is ~7x smaller than COCO: as for SSDLite (ssdlite_mbv2_w035_voc0712.py),
# 24 epochs of the train split repeated 5 times, i.e. 1/5 of the COCO
# schedule's passes (mmdet's YOLOv3: 30 epochs of 10 repeats). YOLOv3's
# optimiser is kept; its warm-up is shortened from 4000 iterations (under one
# COCO epoch) to 500 and its steps stay at 80% and 93% of training.
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', by_epoch=True, milestones=[19, 22], gamma=0.1)
]
