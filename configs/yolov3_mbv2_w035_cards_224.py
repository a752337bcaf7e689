# Plain YOLOv3-MobileNetV2 x0.35 on cards at 224x224: the CPU protocol of
# docs/benchmarks.md for the second tiny detector (SSDLite's is
# ssdlite_mbv2_w035_cards_224.py). Same model, data, optimiser and schedule
# as yolov3_mbv2_w035_cards.py; only the input size and the anchors that
# follow it change: mmdet's 320 anchors scaled by 224/320 and rounded (the
# strides 32, 16 and 8 divide 224, so the grids are 7, 14 and 28 cells).
# YOLOv3's losses are summed over the batch, so at the CPU batch of 8 its
# learning rate per image is that of batch 24 (no rescaling).
_base_ = './yolov3_mbv2_w035_cards.py'

input_size = 224
model = dict(
    bbox_head=dict(
        anchor_generator=dict(base_sizes=[
            [(154, 88), (90, 155), (185, 186)],
            [(24, 61), (71, 67), (42, 119)],
            [(7, 10), (17, 25), (50, 29)],
        ])))
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
