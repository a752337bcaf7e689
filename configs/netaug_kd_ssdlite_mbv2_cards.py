# NetAug + knowledge distillation (the paper's best recipe):
# netaug_ssdlite_mbv2_cards.py with the teacher of kd_ssdlite_mbv2_cards.py. The tiny pass
# adds the kd_* losses; the augmented pass keeps its own losses
# (distill_aug=False, see docs/benchmarks.md, "Distillation"). Train the
# teacher first:
#   python tools/train.py configs/ssdlite_mbv2_w100_cards.py
# tools/export.py exports the tiny model alone, without the teacher.
_base_ = './netaug_ssdlite_mbv2_cards.py'
model = dict(
    distill=dict(
        teacher_config='configs/ssdlite_mbv2_w100_cards.py',
        teacher_checkpoint='work_dirs/ssdlite_mbv2_w100_cards/epoch_30.pth',
        distill_aug=False))
