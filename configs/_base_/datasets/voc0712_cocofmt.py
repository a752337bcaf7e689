# Pascal VOC 07+12 in COCO format (converted once with
# tools/dataset_converters/voc_to_coco.py, see README, so that both VOC AP50
# and COCO mAP are reported): trainval of VOC2007 and VOC2012 for training,
# VOC2007 test for evaluation.
#
# Detector configs combine this file with their model's config; mmengine
# forbids one key in two bases, so everything here has a ``voc_`` name and
# the detector config places it (see ssdlite_mbv2_w035_voc0712.py).
voc_data_root = 'data/VOCdevkit/'
voc_metainfo = dict(
    classes=('aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car',
             'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse',
             'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train',
             'tvmonitor'))
voc_train_settings = dict(
    type='CheckedCocoDataset',
    data_root=voc_data_root,
    metainfo=voc_metainfo,
    filter_cfg=dict(filter_empty_gt=True, min_size=32))
voc_trainval_datasets = [
    dict(
        voc_train_settings,
        ann_file='annotations/voc07_trainval.json',
        data_prefix=dict(img='VOC2007/JPEGImages/')),
    dict(
        voc_train_settings,
        ann_file='annotations/voc12_trainval.json',
        data_prefix=dict(img='VOC2012/JPEGImages/')),
]
voc_test_dataset = dict(
    type='CheckedCocoDataset',
    data_root=voc_data_root,
    metainfo=voc_metainfo,
    ann_file='annotations/voc07_test.json',
    data_prefix=dict(img='VOC2007/JPEGImages/'))
voc_evaluator = [
    dict(type='VOCMetric', metric='mAP', eval_mode='11points'),
    dict(
        type='CocoMetric',
        ann_file=voc_data_root + 'annotations/voc07_test.json',
        metric='bbox')
]
# VOC is ~7x smaller than COCO: 24 epochs of the train split repeated 10
# times (240 passes), as mmdet's ssd300_voc0712.py schedule does (times=10,
# max_epochs=24; its comment's "12 * 10 = 120" predates the 24 epochs).
voc_times = 10
voc_max_epochs = 24
voc_train_cfg = dict(max_epochs=voc_max_epochs, val_interval=4)
