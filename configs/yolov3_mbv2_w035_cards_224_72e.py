# Plain YOLOv3-MobileNetV2 x0.35 on cards at 224x224 for 72 epochs: the
# 72-epoch protocol of docs/benchmarks.md for the second tiny detector
# (SSDLite's is ssdlite_mbv2_w035_cards_224_72e.py, where plain SSDLite gains
# 11-21 AP50 over its 30 epochs). Model, data, optimiser and evaluation are
# yolov3_mbv2_w035_cards_224.py's; the cosine schedule is stretched.
#
# Unlike the SSDLite 72-epoch pair, whose seeds were trained before it
# existed, this pair seeds each epoch's augmentation from the run's seed and
# the epoch (EpochSeedHook, README "Resume"): a NetAug run here spans several
# sittings, and a resumed run then augments exactly as one in a single
# sitting would, and as its plain partner does. It also trains in
# channels_last (below), which the SSDLite pair did not.
_base_ = './yolov3_mbv2_w035_cards_224.py'

max_epochs = 72
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs, end=max_epochs)
]
train_dataloader = dict(persistent_workers=False)
custom_hooks = [dict(type='EpochSeedHook')]
# The same float32 arithmetic in torch's channels_last layout: on the 2-core
# CPU a training step of this model took 0.81x the default layout's time,
# NetAug's 0.85x (tools/misc/channels_last_step.py, docs/benchmarks.md).
memory_format = 'channels_last'
