# The cards dataset (363 photographs, 6 classes; ../shared/data/cards
# converted to COCO format into data/cards/ with
# tools/dataset_converters/voc_to_coco.py, see README) and the schedule
# measured on it in ../shared/gpu/README.md: the train split repeated 4 times
# per epoch, 30 epochs (1500 iterations of batch 24), cosine decay.
#
# Detector configs combine this file with their model's config; mmengine
# forbids one key in two bases, so everything here has a ``cards_`` name
# and the detector config places it (see ssdlite_mbv2_w035_cards.py).
cards_data_root = 'data/cards/'
cards_metainfo = dict(classes=('nine', 'ten', 'jack', 'queen', 'king', 'ace'))
cards_train_dataset = dict(
    type='CheckedCocoDataset',
    data_root=cards_data_root,
    metainfo=cards_metainfo,
    ann_file='annotations/train.json',
    data_prefix=dict(img='JPEGImages/'))
cards_test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        type='CheckedCocoDataset',
        data_root=cards_data_root,
        metainfo=cards_metainfo,
        ann_file='annotations/test.json',
        data_prefix=dict(img='JPEGImages/')))
cards_evaluator = [
    dict(
        type='CocoMetric',
        ann_file=cards_data_root + 'annotations/test.json',
        metric='bbox'),
    dict(type='VOCMetric', metric='mAP', eval_mode='area')
]
cards_max_epochs = 30
cards_train_cfg = dict(max_epochs=cards_max_epochs, val_interval=5)
cards_param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', begin=0, T_max=cards_max_epochs,
         end=cards_max_epochs, by_epoch=True, eta_min=0)
]
cards_default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=5, max_keep_ckpts=2, save_best='auto'))
