# Plain YOLOX-tiny on COCO 2017, exactly mmdet's yolox_tiny_8xb8-300e_coco.py
# (CSPDarknet x0.375 with Focus and SPP, YOLOXPAFPN, YOLOXHead, 416x416
# testing): the tiny model that netaug_yolox_tiny_coco.py trains with NetAug
# (the A/B baseline).
_base_ = 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py'

# Annotation boxes that mmdet's CocoDataset would drop silently (zero size)
# or keep outside the image are dropped or clipped with a warning naming the
# file and the box (mmdet_netaug's CheckedCocoDataset).
custom_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(dataset=dict(type='CheckedCocoDataset')))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
