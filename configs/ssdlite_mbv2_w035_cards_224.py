# Plain SSDLite-MobileNetV2 x0.35 on cards at 224x224: the CPU protocol of
# docs/benchmarks.md, trained there with compare_accuracy.py --batch-size 8
# --val-interval 2 (not converged at these 30 epochs: see the _72e config;
# about 2x cheaper per step than 320x320 on one CPU thread). Same model,
# data and schedule as ssdlite_mbv2_w035_cards.py; only the input size and
# the anchors that follow it change. At 224 the six SSD feature maps are 14, 7, 4, 2, 1 and 1
# cells wide, hence the strides.
_base_ = './ssdlite_mbv2_w035_cards.py'

input_size = 224
model = dict(
    bbox_head=dict(
        anchor_generator=dict(
            input_size=input_size, strides=[16, 32, 56, 112, 224, 224])))
train_pipeline = [
    dict(t, scale=(input_size, input_size)) if t['type'] == 'Resize' else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=(input_size, input_size)) if t['type'] == 'Resize' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
