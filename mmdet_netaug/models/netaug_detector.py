"""The NetAug detector: a plain mmdet detector trained with its augmented
sub-networks, evaluated and exported as the tiny model alone."""
import copy
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.detectors.base import BaseDetector
from mmdet.models.utils import rename_loss_dict, reweight_loss_dict
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from torch import Tensor

from .channel_graph import ChannelGraph
from .checkpoint_fit import is_netaug_state_dict
from .distillation import (Distiller, TeacherMixin, distill_options,
                           losses_and_outputs)
from .netaug_backbone import NetAugBackbone
from .supernet import Supernet, Widths

#: ``aug_widths`` default: the sub-network the schedule (NetAugHook) chose
#: for the current training step.
SCHEDULED = 'scheduled'
from .target_reuse import TargetCache, reusable_target_methods
from .train_step import netaug_train_step


@MODELS.register_module()
class NetAugDetector(TeacherMixin, BaseDetector):
    """Trains a tiny detector with Network Augmentation (Cai et al., 2022).

    Every training step computes ``L(tiny) + aug_loss_weight * L(aug)``,
    where ``aug`` is one augmented sub-network that shares the tiny model's
    weights (the tiny weights are the leading slices of the wide ones).
    :class:`~mmdet_netaug.engine.NetAugHook` chooses that sub-network each
    step. Validation, test and export always use the tiny model.

    The channel couplings of the backbone, the neck and the head are derived
    by tracing the built detector once (see
    :class:`~mmdet_netaug.models.channel_graph.ChannelGraph`), so any
    single-stage detector built from convolutions and BatchNorm can be
    augmented without new code. The width choices come from the
    :class:`NetAugBackbone` that wraps the detector's backbone.

    Args:
        detector (dict): Config of the plain single-stage detector whose
            backbone is a ``NetAugBackbone``.
        aug_loss_weight (float): ``alpha``, the weight of the augmented loss.
            Default: 1.0.
        trace_input_size (tuple[int, int]): Height and width of the dummy
            image used to trace the channel couplings. Default: (320, 320).
        check_finite (bool): Stop with a clear error when a loss is NaN or
            infinite, naming the sub-network. Default: True.
        reuse_targets (bool): Compute anchor-to-ground-truth targets once per
            step and reuse them for the augmented loss, for heads whose
            assignment ignores predictions (SSD, YOLOv3, anchor heads with
            IoU/grid/ATSS assigners); others compute them twice. The losses
            are identical either way. Default: True.
        separate_backward (bool): Back-propagate the tiny loss before the
            augmented forward (:meth:`train_step`), so that the two passes'
            activations are never held at once; the accumulated gradients
            are those of the summed loss. Under DDP this needs the
            ``NetAugDistributedDataParallel`` wrapper
            (``model_wrapper_cfg``), as the NetAug configs set; with another
            wrapper both passes go through one backward. Default: True.
        distill (dict, optional): Knowledge distillation from a frozen
            teacher (its ``teacher_config`` and ``teacher_checkpoint``, the
            loss options of :data:`~mmdet_netaug.models.distillation.
            DISTILL_DEFAULTS`): the tiny pass adds the ``kd_*`` losses, and
            with ``distill_aug=True`` the augmented pass too (logged
            ``aug_kd_*``, weighted by alpha). The teacher runs once per
            step. Default: None (no distillation).
        data_preprocessor (dict, optional): Used by the detector when its
            own config has none (mmengine's Runner passes the config's
            top-level ``data_preprocessor`` here).
        init_cfg (dict, optional): Must be None: the tiny model's weights
            are those the plain detector initialises, so an initialisation
            (e.g. ``Pretrained``) belongs on ``detector`` or its backbone
            (refused here with that message).
    """

    def __init__(self,
                 detector: ConfigType,
                 aug_loss_weight: float = 1.0,
                 trace_input_size: Tuple[int, int] = (320, 320),
                 check_finite: bool = True,
                 reuse_targets: bool = True,
                 separate_backward: bool = True,
                 distill: Optional[dict] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        distill = distill_options(distill, 'NetAugDetector')
        if isinstance(aug_loss_weight, bool) or not isinstance(
                aug_loss_weight, (int, float)) or not (
                0 <= aug_loss_weight < float('inf')):
            raise ValueError('NetAugDetector: field "aug_loss_weight" '
                             '(alpha) must be a finite number >= 0, got '
                             f'{aug_loss_weight!r}')
        if not isinstance(detector, dict) or 'type' not in detector:
            raise ValueError('NetAugDetector: field "detector" must be the '
                             'config dict of a plain detector, got '
                             f'{detector!r}')
        for field, value in (('init_cfg', init_cfg),
                             ('detector.backbone.init_cfg',
                              (detector.get('backbone') or {}).get(
                                  'init_cfg'))):
            if value is not None:
                # applied to the supernet, then replaced in the tiny slices
                # by the plain detector's initialisation (init_weights)
                raise ValueError(
                    f'NetAugDetector: field "{field}" would not reach the '
                    'tiny model (its weights are those the plain detector, '
                    'model.detector, initialises); set it on the plain '
                    'detector or its backbone (model.detector.init_cfg, '
                    'model.detector.backbone.backbone.init_cfg), or load a '
                    f'checkpoint with load_from; got {value!r}')
        backbone_cfg = detector.get('backbone') or {}
        if backbone_cfg.get('type') not in ('NetAugBackbone',
                                             NetAugBackbone):
            raise ValueError(
                'NetAugDetector: field "detector.backbone" must be a '
                "NetAugBackbone, e.g. backbone=dict(type='NetAugBackbone', "
                "backbone=dict(type='MobileNetV2', ...)); got type "
                f'{backbone_cfg.get("type")!r}')
        if data_preprocessor is not None and not detector.get(
                'data_preprocessor'):
            detector = dict(detector, data_preprocessor=data_preprocessor)
        # The random state a plain detector built here would start from:
        # init_weights() draws the tiny model's weights from it, so that
        # NetAug and its plain baseline start from identical tiny weights
        # under the same seed (paired comparisons).
        build_rng_state = torch.get_rng_state()
        built = MODELS.build(detector)
        if not hasattr(built, '_forward') or not hasattr(built, 'bbox_head'):
            raise ValueError('NetAugDetector: the detector must be a '
                             'single-stage mmdet detector with a bbox_head, '
                             f'got {type(built).__name__}')
        super().__init__(data_preprocessor=built.data_preprocessor,
                         init_cfg=init_cfg)
        self.detector = built
        self.detector_cfg = _to_dict(detector)
        self._build_rng_state: Optional[Tensor] = build_rng_state
        self.aug_loss_weight = float(aug_loss_weight)
        self.check_finite = check_finite
        self.separate_backward = bool(separate_backward)
        methods = (reusable_target_methods(built.bbox_head)
                   if reuse_targets else ())
        self.target_cache = TargetCache(built.bbox_head, methods)
        #: The frozen teacher and its losses (None: no distillation).
        self.distiller = Distiller(distill, built) if distill else None
        graph = self._trace(trace_input_size)
        self.supernet = Supernet(self.detector, graph,
                                 built.backbone.width_space)
        if self.supernet.largest_widths() == self.supernet.tiny_widths():
            space = built.backbone.width_space
            raise ValueError(
                'NetAugBackbone: the options width_choices='
                f'{space.width_choices} and expand_choices='
                f'{space.expand_choices} (divisor={space.divisor}) widen no '
                'layer: every augmented sub-network would be the tiny model, '
                'trained twice per step at twice the cost. Give a choice '
                'above 1.0 (e.g. the defaults [1.0, 1.8, 2.6] and '
                '[1.0, 1.6, 2.2, 2.8]), or train the plain config')
        #: What chooses each step's augmented sub-network: the NetAugHook
        #: that drives this model (:meth:`use_schedule`); None until then.
        self.schedule = None
        self._register_load_state_dict_pre_hook(self._accept_plain_keys)

    def _accept_plain_keys(self, state_dict, prefix, *args) -> None:
        """Load-state-dict pre-hook: a plain detector's state dict (keys
        ``backbone.*``, ``neck.*``, ``bbox_head.*``) is renamed in place to
        this model's keys, so that it loads into the tiny model's leading
        slices (``load_from`` a plain checkpoint, torch's
        ``load_state_dict``)."""
        own = [k for k in state_dict if k.startswith(prefix)]
        relative = {k[len(prefix):]: k for k in own}
        if not own or is_netaug_state_dict(relative):
            return
        for rel, key in relative.items():
            state_dict[netaug_key(rel, prefix + 'detector.')] = \
                state_dict.pop(key)
        metadata = getattr(state_dict, '_metadata', None)
        if metadata is not None:
            for name in [m for m in metadata if m.startswith(prefix) and m]:
                rel = name[len(prefix):]
                if rel and not rel.startswith('detector'):
                    metadata[netaug_key(rel, prefix + 'detector.')] = \
                        metadata[name]

    def init_weights(self) -> None:
        """Initialise the supernet, then give the tiny model the weights the
        plain detector gets from the same random state.

        mmengine's Runner seeds the random generators, builds the model and
        later calls ``init_weights``. Here the wide weights are initialised
        first; then a plain detector is built from the random state this
        model's own build started from, initialised with the generators as
        they were before (CPU, and CUDA where the model lives there), and
        copied into the leading slices. With the same seed, the NetAug run
        and its plain baseline therefore start from identical tiny weights,
        and the random generators continue from the same state, so a
        comparison at one seed is paired. This holds as long as nothing
        draws from the CPU generator between the model's build and this call
        (true for mmengine's epoch-based loop; an ``IterBasedTrainLoop``
        starts its dataloader iterator first, which draws a seed) and the
        model lives on the CPU or a CUDA device.
        """
        device = next(self.parameters()).device
        cuda = device.type == 'cuda'
        cuda_state = torch.cuda.get_rng_state(device) if cuda else None
        super().init_weights()
        if self._build_rng_state is None:
            return
        torch.set_rng_state(self._build_rng_state)
        plain = MODELS.build(self.plain_detector_config()).to(device)
        if cuda:
            torch.cuda.set_rng_state(cuda_state, device)
        plain.init_weights()
        self.load_plain_state_dict(plain.state_dict())

    def load_plain_state_dict(self, state_dict: Dict[str, Tensor]) -> None:
        """Load a plain detector's state dict (keys of
        :meth:`plain_detector_config`'s model) into the tiny model: every
        widened tensor gets it as its leading slice, strictly (every key, no
        extra ones, shapes of the tiny model)."""
        self.load_state_dict(state_dict, strict=True)

    def _trace(self, input_size) -> ChannelGraph:
        if (not isinstance(input_size, (tuple, list)) or len(input_size) != 2
                or not all(isinstance(s, int) and s > 0
                           for s in input_size)):
            raise ValueError('NetAugDetector: field "trace_input_size" must '
                             f'be (height, width), got {input_size!r}')
        image = torch.randn(1, 3, *input_size)
        was_training = self.detector.training
        self.detector.eval()
        try:
            return ChannelGraph.trace(self.detector,
                                      lambda: self.detector._forward(image),
                                      [image])
        except RuntimeError as error:
            raise ValueError(
                'NetAugDetector: tracing the detector on a dummy '
                f'{input_size[0]}x{input_size[1]} image failed '
                f'({type(error).__name__}: {error}). Set field '
                '"trace_input_size" to the training input size, e.g. '
                '(320, 320); it must be large enough for every stride of '
                'the detector') from error
        finally:
            self.detector.train(was_training)

    def restore_dynamic_layers(self) -> List[str]:
        """Put back the dynamic layers that were replaced from outside.

        mmengine's Runner reverts every ``SyncBatchNorm`` to a plain
        BatchNorm when it does not train distributed
        (``revert_sync_batchnorm`` in ``Runner.wrap_model``), and so
        replaces the :class:`~mmdet_netaug.ops.DynamicSyncBatchNorm` layers
        with widest-width BatchNorms that the supernet cannot narrow. The
        replacements share the dynamic layers' parameters and buffers, so
        putting the dynamic layers back loses nothing (without a process
        group they compute plain BatchNorm).

        Returns:
            list[str]: The names (in ``detector``) of the restored layers.

        Raises:
            RuntimeError: A layer was replaced by one that does not share
                its parameters, or converted to SyncBN by ``cfg.sync_bn``.
        """
        restored = []
        for name, (dynamic, _) in self.supernet.layers.items():
            current = self.detector.get_submodule(name)
            if current is dynamic:
                continue
            if ('Sync' in type(current).__name__
                    and not isinstance(dynamic, nn.SyncBatchNorm)):
                raise RuntimeError(
                    f'NetAugDetector: layer detector.{name} was converted to '
                    f'{type(current).__name__} after the supernet was built '
                    '(cfg.sync_bn), which cannot change its width. Remove '
                    "sync_bn from the config and set norm_cfg=dict(type="
                    "'SyncBN', ...) in the detector instead")
            shared = all(
                getattr(current, key, None) is getattr(dynamic, key, None)
                for key in ('weight', 'bias', 'running_mean', 'running_var'))
            if not shared:
                raise RuntimeError(
                    f'NetAugDetector: layer detector.{name} was replaced by a '
                    f'{type(current).__name__} that does not share the '
                    'parameters of the supernet layer; replace layers before '
                    'building NetAugDetector, not after')
            parent, _, attr = name.rpartition('.')
            setattr(self.detector.get_submodule(parent), attr, dynamic)
            dynamic.train(current.training)
            restored.append(name)
        return restored

    # -- training ---------------------------------------------------------
    def use_schedule(self, schedule) -> None:
        """Let ``schedule`` (a :class:`~mmdet_netaug.engine.NetAugHook`, or
        anything with ``current_widths()``) choose the augmented
        sub-network of every training step. NetAugHook calls it once,
        before the run."""
        if not callable(getattr(schedule, 'current_widths', None)):
            raise TypeError('NetAugDetector.use_schedule: expected an object '
                            'with current_widths() (NetAugHook), got '
                            f'{type(schedule).__name__}')
        self.schedule = schedule

    def scheduled_widths(self) -> Optional[Widths]:
        """The augmented sub-network of the current training step, as the
        schedule chose it (None: no augmented pass in this step)."""
        if self.schedule is None:
            raise RuntimeError(
                'NetAugDetector is training without NetAugHook: add '
                "custom_hooks = [dict(type='NetAugHook')] to the config (it "
                'chooses the augmented sub-network of every step), or pass '
                'aug_widths to loss() / train_step() explicitly')
        return self.schedule.current_widths()

    def _resolve_widths(self, aug_widths) -> Optional[Widths]:
        widths = (self.scheduled_widths() if aug_widths == SCHEDULED else
                  aug_widths)
        return widths if self.aug_loss_weight > 0 else None

    def two_backward_passes(self, optim_wrapper: OptimWrapper,
                            aug_widths: Optional[Widths]) -> bool:
        """Whether a step with these augmented widths takes
        :func:`netaug_train_step`: with ``separate_backward``, an augmented
        pass and one :class:`~mmengine.optim.OptimWrapper` (not, e.g., an
        ``OptimWrapperDict``); otherwise one backward of what :meth:`loss`
        returns, as in mmengine."""
        return (self.separate_backward and aug_widths is not None
                and self.aug_loss_weight > 0
                and hasattr(optim_wrapper, '_inner_count'))

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper,
                   aug_widths=SCHEDULED) -> Dict[str, Tensor]:
        """One NetAug step with the augmented sub-network ``aug_widths``
        (default: the schedule's for this step; None: the tiny model only):
        :func:`netaug_train_step`, or one backward of the summed loss (see
        :meth:`two_backward_passes`)."""
        widths = self._resolve_widths(aug_widths)
        if self.two_backward_passes(optim_wrapper, widths):
            return netaug_train_step(self, self, data, optim_wrapper, widths)
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(dict(data, aug_widths=widths),
                                       mode='loss')
        parsed, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        return log_vars

    def forward(self, inputs: Tensor, data_samples: OptSampleList = None,
                mode: str = 'tensor', **loss_options):
        """mmdet's forward; in ``'loss'`` mode it takes :meth:`loss`'s
        ``aug_widths`` and ``part`` (what :func:`netaug_train_step` asks
        for explicitly)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples, **loss_options)
        if loss_options:
            raise TypeError(f'NetAugDetector.forward: {sorted(loss_options)} '
                            "only apply to mode='loss'")
        return super().forward(inputs, data_samples, mode)

    def loss(self, batch_inputs: Tensor, batch_data_samples: SampleList,
             aug_widths=SCHEDULED, part: str = 'both') -> Union[dict, list]:
        """The tiny model's losses plus the weighted losses of the augmented
        sub-network ``aug_widths`` (prefixed ``aug_``; default: the
        schedule's sub-network for this step; None: none).

        Args:
            part (str): ``'both'`` computes both in one forward, so that any
                model wrapper's ``train_step`` trains NetAug correctly;
                ``'tiny'`` or ``'aug'`` one of them (the two backward passes
                of :func:`netaug_train_step`).
        """
        if part not in ('both', 'tiny', 'aug'):
            raise ValueError("NetAugDetector.loss: part must be 'both', "
                             f"'tiny' or 'aug', got {part!r}")
        widths = self._resolve_widths(aug_widths)
        augment = widths is not None
        cache = self.target_cache
        losses = {}
        if part != 'aug':
            self.supernet.set_tiny()
            with cache.recording() if augment else nullcontext():
                losses = self._pass_losses(batch_inputs, batch_data_samples,
                                           self.distiller is not None)
            self._check_finite(losses, 'the tiny model')
        if augment and part != 'tiny':
            self.supernet.set_widths(widths)
            distil = (self.distiller is not None
                      and self.distiller.options['distill_aug'])
            try:
                with cache.replaying():
                    aug = self._pass_losses(batch_inputs, batch_data_samples,
                                            distil)
            finally:
                self.supernet.set_tiny()
            self._check_finite(aug, 'the augmented sub-network with group '
                               f'widths {list(widths)}')
            losses.update(
                rename_loss_dict(
                    'aug_', reweight_loss_dict(aug, self.aug_loss_weight)))
        return losses

    def _pass_losses(self, batch_inputs: Tensor,
                     batch_data_samples: SampleList, distil: bool) -> dict:
        """The losses of the sub-network set now, with the ``kd_*``
        losses when ``distil``."""
        if not distil:
            return self.detector.loss(batch_inputs, batch_data_samples)
        losses, outputs = losses_and_outputs(self.detector, batch_inputs,
                                             batch_data_samples)
        losses.update(
            self.distiller.losses(self.detector.bbox_head, outputs,
                                  batch_inputs))
        return losses

    def _check_finite(self, losses: dict, which: str) -> None:
        if not self.check_finite:
            return
        values = [
            v for k, v in losses.items() if 'loss' in k for v in (
                v if isinstance(v, (list, tuple)) else [v])
        ]
        if values and not torch.isfinite(
                torch.stack([v.detach().float().sum() for v in values])).all():
            bad = {k: v for k, v in losses.items() if 'loss' in k}
            raise FloatingPointError(
                f'NetAugDetector: a loss of {which} is not finite: {bad}. '
                'Lower the learning rate or aug_loss_weight, or enable '
                'gradient clipping (optim_wrapper.clip_grad)')

    # -- inference: always the tiny model ---------------------------------
    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Predict with the tiny model."""
        self.supernet.set_tiny()
        return self.detector.predict(batch_inputs, batch_data_samples,
                                     rescale=rescale)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: OptSampleList = None):
        """The tiny model's raw head outputs."""
        self.supernet.set_tiny()
        return self.detector._forward(batch_inputs, batch_data_samples)

    def extract_feat(self, batch_inputs: Tensor):
        """The tiny model's neck features."""
        self.supernet.set_tiny()
        return self.detector.extract_feat(batch_inputs)

    # -- export -----------------------------------------------------------
    def plain_detector_config(self) -> dict:
        """Config of the plain detector (the tiny model) for stock mmdet."""
        cfg = copy.deepcopy(self.detector_cfg)
        cfg['backbone'] = copy.deepcopy(self.detector.backbone.backbone_cfg)
        return _to_dict(cfg)

    def export_plain(self, widths: Optional[Sequence[int]] = None
                     ) -> nn.Module:
        """The tiny model (or another sub-network) as a plain mmdet detector
        whose state dict loads strictly into ``plain_detector_config()``."""
        static = self.supernet.export(widths)
        static.backbone = static.backbone.backbone  # unwrap NetAugBackbone
        return static


def netaug_key(key: str, prefix: str = 'detector.') -> str:
    """A plain detector's state-dict key (or module name) as a
    NetAugDetector's: ``backbone[.*]`` becomes
    ``<prefix>backbone.backbone[.*]`` (inside :class:`NetAugBackbone`), any
    other key ``<prefix><key>``."""
    if key.startswith('backbone.') or key == 'backbone':
        key = 'backbone.' + key
    return prefix + key


def _to_dict(cfg):
    """A plain-``dict`` deep copy of a (Config)dict."""
    if isinstance(cfg, ConfigDict):
        cfg = cfg.to_dict()
    return copy.deepcopy(dict(cfg))
