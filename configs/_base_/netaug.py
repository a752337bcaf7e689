# NetAug's stanza for a plain single-stage detector config, said once here.
# A netaug_* config lists its plain config and this file as bases and places
# these names (mmengine forbids one key in two bases, so everything here has
# a netaug_ name, as in _base_/datasets/cards.py):
#
#   _base_ = ['./ssdlite_mbv2_w035_cards.py', './_base_/netaug.py']
#   custom_imports = _base_.netaug_imports
#   detector = _base_.model
#   detector.backbone = dict(_base_.netaug_backbone,
#                            backbone=detector.backbone)
#   model = dict(_base_.netaug_model, detector=detector)
#   custom_hooks = _base_.custom_hooks + [_base_.netaug_hook]
#   model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
#
# Every option, with NetAug's defaults spelled out: netaug_ssdlite_mbv2.py.
netaug_imports = dict(imports=['mmdet_netaug'], allow_failed_imports=False)
# The plain backbone wrapped with the width space (width and expand choices,
# mmdet_netaug/models/width_space.py).
netaug_backbone = dict(type='NetAugBackbone')
# Replaces the plain detector (_delete_) by the NetAug detector that holds it.
netaug_model = dict(_delete_=True, type='NetAugDetector')
# Samples the augmented sub-network each step and re-estimates BatchNorm
# before validation and into checkpoints.
netaug_hook = dict(type='NetAugHook')
# Under DDP the tiny and the augmented pass back-propagate one after the
# other (NetAugDetector.separate_backward); the rest is mmengine's default.
netaug_model_wrapper_cfg = dict(
    type='NetAugDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)
# YOLOv3 clips the gradient norm at 35, and its summed losses keep the norm
# far above that (hundreds), so the clip fixes the size of every update.
# NetAug's loss adds an augmented term about as large as the tiny one: at
# the same clip it would take half of the tiny model's step (measured: the
# tiny model then fits worse and scores lower, docs/benchmarks.md).
# The NetAug YOLOv3 configs clip at 35 * (1 + alpha).
netaug_yolov3_clip_grad = dict(max_norm=70)
