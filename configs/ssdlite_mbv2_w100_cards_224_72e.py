# Plain SSDLite-MobileNetV2 at width 1.0 on cards at 224x224 for 72 epochs:
# the wide control at the schedule where the tiny SSDLite's NetAug gain
# showed (ssdlite_mbv2_w035_cards_224_72e.py; docs/benchmarks.md, "The wide
# control at the CPU protocol": at 30 epochs neither width gained). Model,
# data, optimiser and evaluation are ssdlite_mbv2_w100_cards_224.py's; the
# cosine schedule is stretched.
#
# A NetAug run of this model takes about 7 hours of one CPU core, so it
# spans sittings: each epoch's augmentation is seeded from the run's seed
# and the epoch (EpochSeedHook, README "Resume"), so that a resumed run
# augments exactly as one in a single sitting would, and as its partner.
_base_ = './ssdlite_mbv2_w100_cards_224.py'

max_epochs = 72
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs, end=max_epochs)
]
train_dataloader = dict(persistent_workers=False)
custom_hooks = _base_.custom_hooks + [dict(type='EpochSeedHook')]
