# NetAug + knowledge distillation (the paper's best recipe):
# netaug_ssdlite_mbv2_voc0712.py with the teacher of kd_ssdlite_mbv2_voc0712.py. The tiny pass
# adds the kd_* losses; the augmented pass keeps its own losses
# (distill_aug=False, see docs/benchmarks.md, "Distillation"). Train the
# teacher first:
#   python tools/train.py configs/ssdlite_mbv2_w100_voc0712.py
# tools/export.py exports the tiny model alone, without the teacher.
_base_ = './netaug_ssdlite_mbv2_voc0712.py'
model = dict(
    distill=dict(
        teacher_config='configs/ssdlite_mbv2_w100_voc0712.py',
        teacher_checkpoint='work_dirs/ssdlite_mbv2_w100_voc0712/epoch_24.pth',
        distill_aug=False))
