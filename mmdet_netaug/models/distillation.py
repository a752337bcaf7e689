"""Knowledge distillation from a frozen, wider teacher of the same family.

:class:`Distiller` holds the teacher (built from its config and checkpoint,
frozen, outside the student's modules, so that it is never trained, saved
or exported) and computes the distillation losses of a single-stage head
whose outputs line up with the teacher's: the same head type, classes,
strides, anchors (or grid) and box coder. :class:`DistilledSingleStageDetector`
is a plain detector trained with it (the KD arm of a comparison);
:class:`~mmdet_netaug.models.NetAugDetector` takes the same ``distill``
entry (NetAug + KD).

The losses, in the head's own form (``T`` the temperature, ``p`` the
teacher's confidence that an anchor holds an object):

* Anchor heads (SSD, RetinaNet-like): ``kd_loss_cls``, ``T^2`` times the KL
  divergence of the class distributions (softmax heads, background
  included) or of every class's binary distribution (sigmoid heads);
  ``kd_loss_bbox``, smooth L1 between the box deltas where ``p`` reaches
  ``conf_threshold``, weighted by ``p``. Both are divided by the sum of
  ``p`` over every anchor of the batch (the teacher's expected number of
  object anchors, to which the many background anchors' small ``p`` add),
  as the head divides its own losses by its number of positive anchors.
* YOLOv3: ``kd_loss_obj``, binary KL of the objectness everywhere;
  ``kd_loss_cls``, binary KL of the classes weighted by ``p``;
  ``kd_loss_bbox`` where ``p`` reaches ``conf_threshold`` (weighted by
  ``p``), binary KL of the centre offsets and squared error of the log
  sizes. Summed over the batch, as YOLOv3's own losses are.

Every loss is zero when the student's outputs equal the teacher's.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.dense_heads import AnchorHead, YOLOV3Head
from mmdet.models.detectors import SingleStageDetector
from mmdet.models.losses import smooth_l1_loss
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.config import Config, ConfigDict
from torch import Tensor

from ..utils.config import ConfigError, load_config
from .bn_calibration import preserved_rng_state
from .checkpoint_fit import (CheckpointDownloadError, CheckpointMismatchError,
                             check_checkpoint_fits, checkpoint_classes,
                             checkpoint_state_dict, read_checkpoint)

#: The options of a ``distill`` entry and their defaults.
DISTILL_DEFAULTS = dict(
    teacher_config=None,  # path (or mmdet::...) or a config with a model
    teacher_checkpoint=None,  # the teacher's trained weights
    cls_weight=1.0,  # kd_loss_cls (and kd_loss_obj for YOLOv3)
    bbox_weight=1.0,  # kd_loss_bbox
    temperature=1.0,  # T of the classification (and objectness) KD
    conf_threshold=0.5,  # teacher confidence from which boxes are distilled
    distill_aug=False)  # NetAug: distil the augmented pass too (aug_kd_*)


class TeacherMismatchError(ValueError):
    """The teacher's outputs do not line up with the student's."""


def head_kd_losses(head: nn.Module, student: Sequence, teacher: Sequence,
                   cls_weight: float = 1.0, bbox_weight: float = 1.0,
                   temperature: float = 1.0,
                   conf_threshold: float = 0.5) -> Dict[str, Tensor]:
    """The distillation losses of ``head``'s outputs ``student`` (what
    ``head(x)`` returns) towards the teacher's outputs ``teacher`` (see the
    module's description)."""
    levels = _level_outputs(head, student, teacher)
    if isinstance(head, YOLOV3Head):
        return _yolov3_kd(head, levels, cls_weight, bbox_weight, temperature,
                          conf_threshold)
    return _anchor_head_kd(head, levels, cls_weight, bbox_weight, temperature,
                           conf_threshold)


def _level_outputs(head, student, teacher) -> List[Tuple[Tensor, ...]]:
    """Per output kind, the student's and teacher's tensors of every level,
    checked to have the same shapes."""
    kinds = 1 if isinstance(head, YOLOV3Head) else 2
    pairs = []
    for kind in range(kinds):
        mine, theirs = student[kind], teacher[kind]
        if len(mine) != len(theirs):
            raise TeacherMismatchError(
                f'the teacher\'s head has {len(theirs)} feature levels, the '
                f'student\'s {len(mine)}')
        for level, (s, t) in enumerate(zip(mine, theirs)):
            if s.shape != t.shape:
                raise TeacherMismatchError(
                    f'level {level} of the head\'s output {kind}: the '
                    f'teacher gives {list(t.shape)}, the student '
                    f'{list(s.shape)} (another stride, number of anchors or '
                    'classes)')
        pairs.append((mine, theirs))
    return pairs


def _flat(maps: Sequence[Tensor], channels: int) -> Tensor:
    """(N, A*C, H, W) maps of every level as (N, sum(H*W*A), C), in mmdet's
    anchor order."""
    return torch.cat([
        m.permute(0, 2, 3, 1).reshape(m.size(0), -1, channels).float()
        for m in maps
    ], dim=1)


def binary_kl(student_logits: Tensor, teacher_logits: Tensor,
              temperature: float = 1.0) -> Tensor:
    """Element-wise KL divergence of Bernoulli distributions
    ``sigmoid(teacher / T)`` to ``sigmoid(student / T)``, times ``T^2``."""
    t = temperature
    target = torch.sigmoid(teacher_logits / t)
    cross = F.binary_cross_entropy_with_logits(
        student_logits / t, target, reduction='none')
    entropy = F.binary_cross_entropy_with_logits(
        teacher_logits / t, target, reduction='none')
    return (cross - entropy).clamp(min=0) * t * t


def softmax_kl(student_logits: Tensor, teacher_logits: Tensor,
               temperature: float = 1.0) -> Tensor:
    """KL divergence of ``softmax(teacher / T)`` to ``softmax(student / T)``
    over the last dimension, times ``T^2`` (mmdet's
    ``knowledge_distillation_kl_div_loss`` averages over the classes
    instead, which would make the loss scale with 1 / number of classes)."""
    t = temperature
    target = F.softmax(teacher_logits / t, dim=-1)
    return F.kl_div(F.log_softmax(student_logits / t, dim=-1), target,
                    reduction='none').sum(-1) * t * t


def _anchor_confidence(head, t_cls: Tensor) -> Tensor:
    """The teacher's confidence ``p`` that each anchor holds an object, from
    its flattened class logits: the largest class probability (sigmoid
    heads) or one minus the background's (softmax heads, the background
    last)."""
    if head.use_sigmoid_cls:
        return torch.sigmoid(t_cls).max(-1).values
    return 1 - F.softmax(t_cls, dim=-1)[..., -1]


def check_divided_kd_head(head) -> None:
    """Raise ValueError for a head (a module, or its class) whose KD losses
    are not divided by the teacher's expected number of object anchors
    (YOLOv3's are summed over the batch): :func:`anchor_kd_divisor` does
    not apply to it."""
    if issubclass(head if isinstance(head, type) else type(head),
                  YOLOV3Head):
        raise ValueError('anchor_kd_divisor: YOLOv3\'s KD losses are summed '
                         'over the batch, not divided')


def anchor_kd_divisor(head: nn.Module, teacher: Sequence,
                      conf_threshold: float = 0.5,
                      background: float = 0.1) -> Dict[str, float]:
    """Where the anchor-head KD divisor comes from, for one batch of the
    teacher head's outputs ``teacher`` (what ``head(x)`` returns): the
    divisor (the sum of ``p`` over every anchor, before its floor of 1),
    the part of it from the anchors with ``p >= conf_threshold`` (the ones
    whose boxes are distilled) and their number, and the part from the
    anchors with ``p < background``. A diagnostic of the KD loss scale
    (``tools/misc/kd_divisor.py``)."""
    check_divided_kd_head(head)
    t_cls = _flat(teacher[0], head.cls_out_channels)
    conf = _anchor_confidence(head, t_cls).detach()
    confident = conf >= conf_threshold
    low = conf < background
    return dict(anchors=conf.numel(), divisor=float(conf.sum()),
                confident=float(conf[confident].sum()),
                confident_anchors=int(confident.sum()),
                background=float(conf[low].sum()),
                background_anchors=int(low.sum()))


def _anchor_head_kd(head, levels, cls_weight, bbox_weight, temperature,
                    threshold) -> Dict[str, Tensor]:
    (s_cls, t_cls), (s_box, t_box) = levels
    channels = head.cls_out_channels
    s_cls, t_cls = _flat(s_cls, channels), _flat(t_cls, channels).detach()
    s_box, t_box = _flat(s_box, 4), _flat(t_box, 4).detach()
    conf = _anchor_confidence(head, t_cls)
    if head.use_sigmoid_cls:
        cls = binary_kl(s_cls, t_cls, temperature).sum(-1)
    else:  # softmax with the background as the last class
        cls = softmax_kl(s_cls, t_cls, temperature)
    objects = conf.sum().clamp(min=1.0)
    box_weight = (conf * (conf >= threshold)).unsqueeze(-1).expand_as(s_box)
    return dict(
        kd_loss_cls=cls_weight * cls.sum() / objects,
        kd_loss_bbox=bbox_weight * smooth_l1_loss(
            s_box, t_box, box_weight, beta=1.0, reduction='sum') / objects)


def _yolov3_kd(head, levels, cls_weight, bbox_weight, temperature,
               threshold) -> Dict[str, Tensor]:
    ((s_maps, t_maps), ) = levels
    s, t = _flat(s_maps, head.num_attrib), _flat(t_maps,
                                                 head.num_attrib).detach()
    conf = torch.sigmoid(t[..., 4])
    box_weight = (conf * (conf >= threshold)).unsqueeze(-1)
    xy = binary_kl(s[..., :2], t[..., :2])
    wh = (s[..., 2:4] - t[..., 2:4])**2
    return dict(
        kd_loss_obj=cls_weight * binary_kl(s[..., 4], t[..., 4],
                                           temperature).sum(),
        kd_loss_cls=cls_weight * (binary_kl(s[..., 5:], t[..., 5:],
                                            temperature) *
                                  conf.unsqueeze(-1)).sum(),
        kd_loss_bbox=bbox_weight * ((xy + wh) * box_weight).sum())


def check_heads_line_up(student: nn.Module, teacher: nn.Module) -> None:
    """Refuse a teacher whose head outputs do not line up with the
    student's, naming what differs."""
    s_head, t_head = student.bbox_head, teacher.bbox_head
    anchors = hasattr(getattr(s_head, 'prior_generator', None),
                      'base_anchors')
    if not (isinstance(s_head, YOLOV3Head) or
            (isinstance(s_head, AnchorHead) and anchors)):
        raise TeacherMismatchError(
            'distillation supports anchor heads with anchor boxes (SSDHead, '
            'RetinaHead, ...) and YOLOV3Head; the student\'s head is a '
            f'{type(s_head).__name__} (its priors: '
            f'{type(getattr(s_head, "prior_generator", None)).__name__})')
    if type(s_head) is not type(t_head):
        raise TeacherMismatchError(
            f'head type: the teacher has a {type(t_head).__name__}, the '
            f'student a {type(s_head).__name__}')
    if s_head.num_classes != t_head.num_classes:
        raise TeacherMismatchError(
            f'classes: the teacher\'s head has num_classes='
            f'{t_head.num_classes}, the student\'s {s_head.num_classes}')
    if isinstance(s_head, AnchorHead) and (s_head.use_sigmoid_cls !=
                                           t_head.use_sigmoid_cls):
        raise TeacherMismatchError(
            'classification: one head uses sigmoid scores and the other '
            'softmax (loss_cls use_sigmoid)')
    s_gen, t_gen = s_head.prior_generator, t_head.prior_generator
    s_strides, t_strides = ([tuple(s) for s in g.strides]
                            for g in (s_gen, t_gen))
    if s_strides != t_strides:
        raise TeacherMismatchError(
            f'strides: the teacher\'s head has {t_strides}, the student\'s '
            f'{s_strides}')
    if s_gen.num_base_priors != t_gen.num_base_priors:
        raise TeacherMismatchError(
            f'number of anchors per location: the teacher\'s head has '
            f'{t_gen.num_base_priors}, the student\'s '
            f'{s_gen.num_base_priors}')
    if not all(torch.allclose(a, b) for a, b in zip(
            s_gen.base_anchors, t_gen.base_anchors)):
        raise TeacherMismatchError(
            'anchors: the teacher\'s anchor sizes differ from the '
            'student\'s (prior_generator)')
    s_coder, t_coder = (getattr(h, 'bbox_coder', None)
                        for h in (s_head, t_head))
    if (type(s_coder) is not type(t_coder) or _coder_params(s_coder) !=
            _coder_params(t_coder)):
        raise TeacherMismatchError(
            f'box coder: the teacher\'s head encodes boxes with '
            f'{type(t_coder).__name__}{_coder_params(t_coder)}, the '
            f'student\'s with {type(s_coder).__name__}'
            f'{_coder_params(s_coder)}')
    s_pre, t_pre = (_preprocessing(m) for m in (student, teacher))
    if s_pre != t_pre:
        raise TeacherMismatchError(
            f'input normalisation: the teacher\'s data_preprocessor has '
            f'{t_pre}, the student\'s {s_pre} (the teacher sees the '
            'student\'s preprocessed images)')


def _coder_params(coder) -> dict:
    return {k: [round(float(x), 6) for x in getattr(coder, k)]
            for k in ('means', 'stds') if hasattr(coder, k)}


def _preprocessing(model) -> dict:
    pre = model.data_preprocessor
    out = {}
    for key in ('mean', 'std'):
        value = getattr(pre, key, None)
        if value is not None:
            out[key] = [round(float(v), 4) for v in value.flatten()]
    out['bgr_to_rgb'] = bool(getattr(pre, '_channel_conversion', False))
    return out


def distill_options(distill: Optional[dict], owner: str) -> Optional[dict]:
    """A ``distill`` entry with its defaults filled in (None: none), or a
    ``ValueError`` naming the field."""
    if distill is None:
        return None
    if not isinstance(distill, dict):
        raise ValueError(f'{owner}: field "distill" must be a dict, got '
                         f'{distill!r}')
    unknown = sorted(set(distill) - set(DISTILL_DEFAULTS))
    if unknown:
        raise ValueError(f'{owner}: unknown option(s) {unknown} in field '
                         f'"distill"; the options are '
                         f'{sorted(DISTILL_DEFAULTS)}')
    options = dict(DISTILL_DEFAULTS, **distill)
    for key in ('teacher_config', 'teacher_checkpoint'):
        if not options[key]:
            raise ValueError(
                f'{owner}: field "distill.{key}" is required (the teacher is '
                'given as its config and its trained checkpoint, e.g. '
                "teacher_config='configs/ssdlite_mbv2_w100_cards.py', "
                "teacher_checkpoint='work_dirs/ssdlite_mbv2_w100_cards/"
                "epoch_30.pth')")
    for key in ('cls_weight', 'bbox_weight'):
        if not isinstance(options[key], (int, float)) or options[key] < 0:
            raise ValueError(f'{owner}: field "distill.{key}" must be a '
                             f'number >= 0, got {options[key]!r}')
    if not isinstance(options['temperature'],
                      (int, float)) or options['temperature'] <= 0:
        raise ValueError(f'{owner}: field "distill.temperature" must be a '
                         f'number > 0, got {options["temperature"]!r}')
    if not isinstance(options['conf_threshold'], (int, float)) or not (
            0 <= options['conf_threshold'] <= 1):
        raise ValueError(f'{owner}: field "distill.conf_threshold" must be '
                         f'between 0 and 1, got {options["conf_threshold"]!r}')
    return options


def teacher_model_config(teacher_config) -> dict:
    """The ``model`` of a teacher's config (a path, ``mmdet::...``, or a
    config or dict holding ``model``)."""
    source = teacher_config
    if isinstance(teacher_config, str):
        try:
            cfg = load_config(teacher_config)
        except ConfigError as error:
            raise ValueError(
                f'field "distill.teacher_config": {error}; give a path '
                'relative to the working directory, or mmdet::<config>'
            ) from error
    elif isinstance(teacher_config, (dict, Config)):
        cfg = teacher_config
    else:
        raise ValueError('field "distill.teacher_config" must be a config '
                         f'path or dict, got {teacher_config!r}')
    model = cfg.get('model') if hasattr(cfg, 'get') else None
    if not model:
        raise ValueError(f'field "distill.teacher_config": {source!r} has '
                         'no model')
    model = model.to_dict() if isinstance(model, ConfigDict) else dict(model)
    if model.get('type') in ('NetAugDetector', 'DistilledSingleStageDetector'):
        raise ValueError(
            f'field "distill.teacher_config": {source!r} builds a '
            f'{model["type"]}; give the teacher as a plain detector config '
            '(for a NetAug-trained teacher: tools/export.py, then its '
            'exported config and checkpoint)')
    return copy.deepcopy(model)


class Distiller:
    """A frozen teacher and the distillation losses towards it.

    Not an ``nn.Module``: the teacher stays out of its owner's modules,
    parameters, optimiser and state dict (what mmdet's
    ``KnowledgeDistillationSingleStageDetector`` does by hiding it from
    ``__setattr__``). Owners move it with them (:class:`TeacherMixin`).

    Args:
        options (dict): A ``distill`` entry (:data:`DISTILL_DEFAULTS`).
        student (nn.Module): The plain student detector (the tiny model),
            whose head the teacher's must line up with.
    """

    def __init__(self, options: dict, student: nn.Module) -> None:
        self.options = options
        self.teacher = build_teacher(options['teacher_config'],
                                     options['teacher_checkpoint'])
        check_heads_line_up(student, self.teacher)
        #: How many times the teacher has run (one per training step).
        self.teacher_calls = 0
        self._inputs: Optional[Tensor] = None
        self._outputs = None

    def teacher_outputs(self, inputs: Tensor):
        """The teacher head's outputs for a batch, computed once per batch:
        the tiny and the augmented pass of a step share them."""
        if inputs is not self._inputs:
            self._inputs = None  # free the previous batch first
            with torch.no_grad():
                self._outputs = self.teacher.bbox_head(
                    self.teacher.extract_feat(inputs))
            self._inputs = inputs
            self.teacher_calls += 1
        return self._outputs

    def losses(self, head: nn.Module, student_outputs, inputs: Tensor
               ) -> Dict[str, Tensor]:
        """The ``kd_*`` losses of the student head's outputs."""
        o = self.options
        return head_kd_losses(head, student_outputs,
                              self.teacher_outputs(inputs), o['cls_weight'],
                              o['bbox_weight'], o['temperature'],
                              o['conf_threshold'])

    def forget(self) -> None:
        """Drop the kept batch and outputs."""
        self._inputs = self._outputs = None


def build_teacher(teacher_config, checkpoint: str) -> nn.Module:
    """Build the teacher, load its checkpoint strictly and freeze it. The
    random generators are left as they were, so that the student's
    initialisation does not depend on whether it has a teacher."""
    model_cfg = teacher_model_config(teacher_config)
    with preserved_rng_state():
        teacher = MODELS.build(model_cfg)
    if not hasattr(teacher, 'bbox_head') or not hasattr(
            teacher, 'extract_feat'):
        raise ValueError('field "distill.teacher_config": the teacher must '
                         'be a single-stage detector with a bbox_head, got '
                         f'{type(teacher).__name__}')
    try:
        loaded = read_checkpoint(checkpoint)
        state = checkpoint_state_dict(loaded, checkpoint)
        check_checkpoint_fits(teacher, state, checkpoint)
    except CheckpointDownloadError as error:
        raise CheckpointDownloadError(
            f'field "distill.teacher_checkpoint": {error}') from error
    except CheckpointMismatchError as error:
        raise CheckpointMismatchError(
            f'field "distill.teacher_checkpoint": {error}'.split(
                '. Use a checkpoint trained')[0] +
            ' (the teacher checkpoint must be one trained with '
            'distill.teacher_config)') from error
    teacher.load_state_dict(state, strict=False)  # checked: only the counter
    # what mmdet's init_detector keeps: the classes the teacher learnt, in
    # its order (checked against the training dataset: TeacherClassesHook)
    teacher.dataset_meta = dict(classes=checkpoint_classes(loaded))
    teacher.eval()
    teacher.requires_grad_(False)
    return teacher


def model_config_without_teacher(model_cfg: dict) -> dict:
    """A model config that tests (or exports) a distilled detector without
    building its teacher: the ``distill`` entry removed, and
    :class:`DistilledSingleStageDetector` replaced by mmdet's
    ``SingleStageDetector`` (its state dict is the plain detector's, so its
    checkpoints load strictly). Other configs are returned unchanged."""
    if not isinstance(model_cfg, dict) or 'distill' not in model_cfg:
        return model_cfg
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.pop('distill')
    if model_cfg.get('type') in ('DistilledSingleStageDetector',
                                 DistilledSingleStageDetector):
        model_cfg['type'] = 'SingleStageDetector'
    return model_cfg


def check_teacher_classes(distiller: 'Distiller',
                          classes: Optional[Sequence[str]],
                          source: str = 'the training dataset'
                          ) -> Optional[str]:
    """Refuse a teacher trained on other classes, or on the same classes in
    another order: the class outputs line up by index, so ``kd_loss_cls``
    would pull each class towards another class's scores. Returns a warning
    when either side records no class names (nothing to compare)."""
    path = distiller.options['teacher_checkpoint']
    taught = distiller.teacher.dataset_meta.get('classes')
    if taught is None or classes is None:
        missing = (f'the teacher checkpoint {path} (meta.dataset_meta.classes)'
                   if taught is None else source)
        return (f'distillation: {missing} records no class names, so the '
                'teacher\'s classes cannot be checked against the student\'s '
                '(they must be the same, in the same order)')
    classes = tuple(map(str, classes))
    if taught != classes:
        how = ('the same classes in another order'
               if sorted(taught) == sorted(classes) else 'other classes')
        raise TeacherMismatchError(
            f'classes: the teacher checkpoint {path} was trained on '
            f'{list(taught)}, {source} has {list(classes)} ({how}: the '
            'class outputs are distilled index by index). Train the teacher '
            'on the student\'s dataset and class list (field "distill.'
            'teacher_checkpoint")')
    return None


class TeacherMixin:
    """For detectors with a :class:`Distiller` in ``self.distiller``: the
    teacher moves with the model (``to``, ``cuda``, ``half``...) and stays
    in eval mode when the model trains."""

    distiller: Optional[Distiller] = None

    def _apply(self, fn, *args, **kwargs):
        result = super()._apply(fn, *args, **kwargs)
        if self.distiller is not None:
            self.distiller.teacher._apply(fn, *args, **kwargs)
            self.distiller.forget()
        return result

    def train(self, mode: bool = True):
        result = super().train(mode)
        if self.distiller is not None:
            self.distiller.teacher.eval()
        return result


def losses_and_outputs(detector: nn.Module, inputs: Tensor,
                       data_samples: SampleList) -> Tuple[dict, tuple]:
    """What ``detector.loss`` computes for a single-stage detector
    (``extract_feat``, the head, ``loss_by_feat``), with the head's outputs
    for distillation."""
    head = detector.bbox_head
    outputs = head(detector.extract_feat(inputs))
    gt, ignore, metas = unpack_gt_instances(data_samples)
    return head.loss_by_feat(*outputs, gt, metas, ignore), outputs


@MODELS.register_module()
class DistilledSingleStageDetector(TeacherMixin, SingleStageDetector):
    """A single-stage detector trained with knowledge distillation from a
    frozen teacher: the detector's own losses plus the ``kd_*`` losses of
    :class:`Distiller`.

    Its state dict is the plain detector's (the teacher is not part of it),
    so its checkpoints load strictly into the plain config (``SSD`` and
    ``YOLOV3`` detectors are ``SingleStageDetector``s that add nothing).

    Args:
        distill (dict): The teacher and the loss options
            (:data:`DISTILL_DEFAULTS`); ``teacher_config`` and
            ``teacher_checkpoint`` are required.
        Others: as :class:`~mmdet.models.SingleStageDetector`.
    """

    def __init__(self,
                 backbone: ConfigType,
                 bbox_head: ConfigType,
                 distill: dict,
                 neck: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        options = distill_options(distill, 'DistilledSingleStageDetector')
        if options is None:
            raise ValueError('DistilledSingleStageDetector: field "distill" '
                             'is required (the teacher and its options)')
        if options['distill_aug']:
            raise ValueError('DistilledSingleStageDetector: '
                             '"distill.distill_aug" is an option of '
                             'NetAugDetector (this model has no augmented '
                             'pass)')
        super().__init__(backbone=backbone, neck=neck, bbox_head=bbox_head,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.distiller = Distiller(options, self)

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Union[dict, list]:
        losses, outputs = losses_and_outputs(self, batch_inputs,
                                             batch_data_samples)
        losses.update(
            self.distiller.losses(self.bbox_head, outputs, batch_inputs))
        return losses
