# Plain SSDLite-MobileNetV2 x0.35 on Pascal VOC 07+12 (trainval), tested on
# VOC2007 test. The data is read in COCO format (converted once with
# tools/dataset_converters/voc_to_coco.py, see README), so that both COCO
# mAP and VOC AP50 are reported.
_base_ = ['./ssdlite_mbv2_w035_coco.py', './_base_/datasets/voc0712_cocofmt.py']

# The head keeps mmdet's SSDLite (COCO) anchors, min_sizes 48..304 of 320
# (mmdet has no SSDLite on VOC; its SSD300 VOC config uses larger ones,
# basesize_ratio_range (0.2, 0.9) against COCO's (0.15, 0.9)).
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
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='CosineAnnealingLR', begin=0, T_max=_base_.voc_max_epochs,
         end=_base_.voc_max_epochs, by_epoch=True, eta_min=0)
]
