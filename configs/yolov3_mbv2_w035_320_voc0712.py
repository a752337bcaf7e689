# Plain YOLOv3-MobileNetV2 x0.35 at 320 on Pascal VOC 07+12 (trainval), tested
# on VOC2007 test: yolov3_mbv2_w035_320_coco.py's model with the data layout of
# ssdlite_mbv2_w035_voc0712.py (VOC converted once to COCO format with
# tools/dataset_converters/voc_to_coco.py, see README, so that both VOC AP50
# and COCO mAP are reported).
# The head keeps mmdet's YOLOv3 (COCO) anchors, as ssdlite_mbv2_w035_voc0712.py
# keeps SSDLite's (mmdet has no YOLOv3 config for VOC).
_base_ = ['./yolov3_mbv2_w035_320_coco.py', './_base_/datasets/voc0712_cocofmt.py']

model = dict(bbox_head=dict(num_classes=20))
train_dataloader = dict(
    dataset=dict(
        times=_base_.voc_times,
        dataset=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[
                dict(dataset, pipeline=_base_.train_pipeline)
                for dataset in _base_.voc_trainval_datasets
            ])))
val_dataloader = dict(
    dataset=dict(_base_.voc_test_dataset, pipeline=_base_.test_pipeline))
test_dataloader = val_dataloader
val_evaluator = _base_.voc_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.voc_train_cfg

# VOC is ~7x smaller than COCO: as for SSDLite (ssdlite_mbv2_w035_voc0712.py),
# 24 epochs of the train split repeated 10 times (240 passes, mmdet's
# ssd300_voc0712.py schedule; mmdet's YOLOv3 on COCO: 30 epochs of 10
# repeats, 300 passes). YOLOv3's optimiser is kept; its warm-up is shortened
# from 4000 iterations (under one COCO epoch) to 500 and its steps stay at
# 80% and 93% of training.
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', by_epoch=True, milestones=[19, 22], gamma=0.1)
]
