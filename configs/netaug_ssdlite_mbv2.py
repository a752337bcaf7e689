# NetAug SSDLite-MobileNetV2 at width 0.35 on COCO 2017. The tiny model is
# exactly ssdlite_mbv2_w035_coco.py; training adds, every step, the loss of
# one augmented sub-network that shares its weights.
_base_ = ['./ssdlite_mbv2_w035_coco.py', './_base_/netaug.py']
custom_imports = _base_.netaug_imports

detector = _base_.model
detector.backbone = dict(
    _base_.netaug_backbone,
    backbone=detector.backbone,
    width_choices=[1.0, 1.8, 2.6],  # channels between blocks
    expand_choices=[1.0, 1.6, 2.2, 2.8],  # hidden channels of blocks
    augment_factor=None,  # the paper's r; with diversity_factor s, replaces
    diversity_factor=None,  # width_choices by s widths up to r x the width
    divisor=8,  # augmented widths are multiples of it
    expand_from_input=False)  # True: hidden widths follow the input's too
model = dict(
    _base_.netaug_model,
    detector=detector,
    aug_loss_weight=1.0,  # alpha
    separate_backward=True,  # tiny backward before the augmented forward
    reuse_targets=True,  # one anchor assignment for both passes
    check_finite=True,  # stop on a NaN/inf loss, naming the sub-network
    # distill=dict(...): knowledge distillation as well (netaug_kd_*.py)
    trace_input_size=(320, 320))

custom_hooks = _base_.custom_hooks + [
    dict(
        _base_.netaug_hook,
        width_aug_stop=0.5,  # fraction of training with width augmentation
        netaug_stop_epoch=None,  # epoch from which NetAug stops altogether
        sort_channels=True,  # L1-importance sorting at epoch starts
        sort_at_start=False,  # not before the first step (README)
        bn_calibration_batches=20,  # BN re-estimation before evaluation
        seed=None,  # sub-network sampler's seed: None takes the run's
        cudnn_benchmark=False)  # widths change every step; None keeps env_cfg
]
model_wrapper_cfg = _base_.netaug_model_wrapper_cfg
