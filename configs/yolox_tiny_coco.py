# Plain YOLOX-tiny on COCO 2017, exactly mmdet's yolox_tiny_8xb8-300e_coco.py
# (CSPDarknet x0.375 with Focus and SPP, YOLOXPAFPN, YOLOXHead, 416x416
# testing): the tiny model that netaug_yolox_tiny_coco.py trains with NetAug
# (the A/B baseline).
_base_ = 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py'
