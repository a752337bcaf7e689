"""NetAugHook through mmengine's Runner on real cards images."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from conftest import cards_runner_config
from mmdet.registry import HOOKS
from mmdet_netaug.engine import NetAugHook
from mmdet_netaug.engine.hooks.netaug_hook import sample_widths


@HOOKS.register_module()
class RecordSubnetsHook(Hook):
    """Records the augmented sub-network of every iteration (runs after
    NetAugHook, which has the higher priority)."""
    priority = 'LOW'

    def __init__(self):
        self.widths = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        self.widths.append(model.scheduled_widths())


def _netaug_hook(runner) -> NetAugHook:
    return next(h for h in runner.hooks if isinstance(h, NetAugHook))


@pytest.fixture(scope='module')
def trained(cards_coco, tmp_path_factory):
    """Two epochs of NetAug SSDLite on 8 cards images, with validation."""
    work_dir = tmp_path_factory.mktemp('netaug_run')
    cfg = cards_runner_config(
        'netaug_ssdlite_mbv2_cards.py', cards_coco, work_dir,
        **{'custom_hooks.2.bn_calibration_batches': 2})
    cfg.custom_hooks.append(dict(type='RecordSubnetsHook'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_training_validates_the_tiny_model_with_coco_and_voc_metrics(
        trained):
    metrics = trained.message_hub.log_scalars
    assert 'val/coco/bbox_mAP' in metrics
    assert 'val/pascal_voc/AP50' in metrics
    assert 'train/aug_loss_cls' in metrics and 'train/loss_cls' in metrics
    assert osp.isfile(osp.join(trained.cfg.work_dir, 'epoch_2.pth'))


def test_width_augmentation_stops_halfway_expand_goes_on(trained):
    recorder = next(h for h in trained.hooks
                    if isinstance(h, RecordSubnetsHook))
    hook = _netaug_hook(trained)
    model = trained.model
    groups = model.supernet.graph.groups
    assert len(recorder.widths) == trained.max_iters == 4
    stop = int(hook.width_aug_stop * trained.max_iters)
    for it, widths in enumerate(recorder.widths):
        # Reproducible from the seed and the iteration, on every rank.
        assert widths == hook.sample_widths_at(model, it, trained.max_iters)
        outer_widened = any(w != g.base_width for g, w in zip(groups, widths)
                            if not g.inner)
        inner_widened = any(w != g.base_width for g, w in zip(groups, widths)
                            if g.inner)
        assert inner_widened
        if it >= stop:
            assert not outer_widened
    assert any(
        any(w != g.base_width for g, w in zip(groups, widths) if not g.inner)
        for widths in recorder.widths[:stop])
    # another seed (another paired seed of a comparison) draws other
    # sub-networks at the same iterations
    assert hook.seed == trained.seed
    assert all(sample_widths(model, hook.seed, it, True)
               != sample_widths(model, hook.seed + 1, it, True)
               for it in range(trained.max_iters))


def test_bn_reestimation_replaces_stale_stats_and_fills_checkpoints(
        trained):
    hook = _netaug_hook(trained)
    bn = trained.model.detector.backbone.backbone.conv1.bn
    estimated = bn.running_mean.clone()
    bn.running_mean.add_(1.0)  # stale statistics, as after wide passes
    hook.bn_stale = True
    hook.recalibrate(trained)
    assert not hook.bn_stale
    # Re-measured on the same batches (chosen by seed, iteration and rank).
    assert torch.equal(bn.running_mean, estimated)
    checkpoint = torch.load(trained.cfg.work_dir + '/epoch_2.pth',
                            weights_only=False)
    assert checkpoint['netaug'] == dict(seed=hook.seed)
    # The checkpoint holds the re-estimated statistics of the tiny model.
    key = 'detector.backbone.backbone.conv1.bn.running_mean'
    assert torch.equal(checkpoint['state_dict'][key], estimated)


def test_the_checkpoint_seed_is_kept_for_resuming_and_evaluating_only(
        trained, cards_coco, tmp_path):
    """A NetAug checkpoint's sampler seed carries on where the run does
    (resumed, or evaluated: the same BatchNorm re-estimation batches); a
    new training that starts from it (load_from, fine-tuning at another
    seed) samples with its own seed, not the old run's."""
    checkpoint = trained.cfg.work_dir + '/epoch_2.pth'
    saved = torch.load(checkpoint, weights_only=False)['netaug']['seed']

    def hook_after_loading(train: bool, resume: bool) -> NetAugHook:
        cfg = cards_runner_config(
            'netaug_ssdlite_mbv2_cards.py', cards_coco,
            tmp_path / f'{train}{resume}', **{'randomness.seed': saved + 7})
        cfg.load_from, cfg.resume = checkpoint, resume
        runner = Runner.from_cfg(cfg)
        if train:  # as Runner.train() does before loading
            runner._train_loop = runner.build_train_loop(runner._train_loop)
            runner.call_hook('before_run')
        runner.load_or_resume()
        return _netaug_hook(runner)

    assert hook_after_loading(train=True, resume=False).seed == saved + 7
    assert hook_after_loading(train=True, resume=True).seed == saved
    assert hook_after_loading(train=False, resume=False).seed == saved


def test_fewer_calibration_batches_than_asked_are_warned_about(trained):
    """A training set too small for bn_calibration_batches full batches
    (8 images at batch 4: 2) re-estimates on what there is, and says so."""
    import logging
    hook = _netaug_hook(trained)
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(
        (record.levelno, record.getMessage()))
    trained.logger.addHandler(handler)
    asked = hook.reestimation.num_batches
    hook.reestimation.num_batches = 50
    try:
        hook.recalibrate(trained)
    finally:
        hook.reestimation.num_batches = asked
        trained.logger.removeHandler(handler)
    assert (logging.WARNING, 'NetAug: re-estimated the BatchNorm statistics '
            'on 2 training batches, fewer than the 50 asked '
            '(bn_calibration_batches): this rank\'s share of the training '
            'set holds no more full batches') in messages


def test_hook_without_a_netaug_model_is_refused(cards_coco, tmp_path):
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                              tmp_path, epochs=1)
    cfg.custom_hooks.append(dict(type='NetAugHook'))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(TypeError, match='NetAugDetector'):
        runner.train()


@pytest.mark.parametrize('kwargs,field', [
    (dict(width_aug_stop=1.5), 'width_aug_stop'),
    (dict(bn_calibration_batches=0), 'bn_calibration_batches'),
    (dict(netaug_stop_epoch=-1), 'netaug_stop_epoch'),
    (dict(cudnn_benchmark='yes'), 'cudnn_benchmark'),
    (dict(sort_channels='no'), 'sort_channels'),  # 'no' is truthy
    (dict(sort_at_start=1), 'sort_at_start'),
    (dict(bn_calibration_batches=True), 'bn_calibration_batches'),
    (dict(netaug_stop_epoch=False), 'netaug_stop_epoch'),
])
def test_hook_options_are_checked(kwargs, field):
    with pytest.raises(ValueError, match=field):
        NetAugHook(**kwargs)


@pytest.mark.parametrize('ema_options', [
    dict(priority=49), dict()], ids=['ema_before', 'ema_appended'])
def test_checkpoint_with_ema_holds_statistics_of_the_saved_weights(
        cards_coco, tmp_path, ema_options):
    """mmdet's configs give their EMAHook priority 49; a user appending
    ``dict(type='EMAHook')`` (NORMAL, as NetAugHook once was) gets the same
    order: the checkpoint (and the best one, saved after validation) holds
    the statistics of the averaged weights it holds."""
    cfg = cards_runner_config(
        'netaug_ssdlite_mbv2_cards.py', cards_coco, tmp_path, epochs=1,
        **{'custom_hooks.2.bn_calibration_batches': 2})
    cfg.custom_hooks.append(dict(type='EMAHook', momentum=0.5,
                                 **ema_options))
    cfg.default_hooks.checkpoint.save_best = 'coco/bbox_mAP'
    cfg.default_hooks.checkpoint.rule = 'greater'
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook, model = _netaug_hook(runner), runner.model
    names = [type(h).__name__ for h in runner.hooks]
    assert names.index('EMAHook') < names.index('NetAugHook')
    best = next(tmp_path.glob('best_*.pth'))
    for path in (tmp_path / 'epoch_1.pth', best):
        _check_ema_checkpoint(runner, hook, model, path)


def _check_ema_checkpoint(runner, hook, model, path):
    checkpoint = torch.load(str(path), weights_only=False)
    ema_weights = checkpoint['state_dict']  # EMAHook saves the average here
    raw_weights = {k[len('module.'):]: v
                   for k, v in checkpoint['ema_state_dict'].items()
                   if k.startswith('module.')}
    weight = 'detector.backbone.backbone.conv1.conv.weight'
    assert not torch.equal(ema_weights[weight], raw_weights[weight])
    key = 'detector.backbone.backbone.conv1.bn.running_mean'

    def reestimated(weights):  # the same batches as at the save
        model.load_state_dict(weights)
        hook.bn_stale = True
        hook.recalibrate(runner)
        return model.state_dict()[key].clone()

    assert torch.allclose(reestimated(ema_weights), ema_weights[key])
    assert not torch.allclose(reestimated(raw_weights), ema_weights[key])


class _SeeValidatedBN(Hook):
    """Keeps a BatchNorm's running mean as each validation starts."""

    def __init__(self, bn, seen):
        self.bn, self.seen = bn, seen

    def before_val_iter(self, runner, batch_idx, data_batch=None):
        if batch_idx == 0:
            self.seen.append(self.bn.running_mean.clone())


def _train_seeing_validated_bn(cfg, bn, seen):
    """Train ``cfg``, appending to ``seen`` the running mean of ``bn(model)``
    that each validation uses."""
    runner = Runner.from_cfg(cfg)
    runner.register_hook(_SeeValidatedBN(bn(runner.model), seen), 'LOWEST')
    runner.train()


def test_a_run_resumed_at_its_end_validates_as_the_uninterrupted_one(
        cards_coco, tmp_path):
    """With an appended EMAHook (buffers not averaged), resuming the final
    checkpoint gives the model the raw weights' older buffers back; the
    final validation re-estimates (the same batches) rather than using
    them, so it sees the statistics the uninterrupted run validated with."""
    cfg = cards_runner_config(
        'netaug_ssdlite_mbv2_cards.py', cards_coco, tmp_path, epochs=1,
        **{'custom_hooks.2.bn_calibration_batches': 2})
    cfg.custom_hooks.append(dict(type='EMAHook', momentum=0.5))
    # (tools/train.py's CheckedRunner registers it)
    cfg.custom_hooks.append(dict(type='FinalValidationHook'))
    key = 'detector.backbone.backbone.conv1.bn.running_mean'
    validated = []

    def bn(model):
        return model.detector.backbone.backbone.conv1.bn

    _train_seeing_validated_bn(cfg.copy(), bn, validated)
    resumed = cfg.copy()
    resumed.resume, resumed.load_from = True, str(tmp_path / 'epoch_1.pth')
    _train_seeing_validated_bn(resumed, bn, validated)
    assert len(validated) == 2
    assert torch.equal(validated[0], validated[1]), key


def test_an_ema_hook_acting_after_the_reestimation_is_refused(
        cards_coco, tmp_path):
    cfg = cards_runner_config('netaug_ssdlite_mbv2_cards.py', cards_coco,
                              tmp_path, epochs=1)
    cfg.custom_hooks.append(dict(type='EMAHook', priority='LOW'))
    runner = Runner.from_cfg(cfg)
    runner.call_hook('before_run')  # evaluating (tools/test.py): no matter
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    with pytest.raises(ValueError, match=r'EMAHook \(priority LOW\) runs '
                       r'after NetAug .*mmdet\'s configs use 49'):
        runner.call_hook('before_run')


def _iteration_based(cfg, max_iters):
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                         val_interval=max_iters)
    cfg.param_scheduler = cfg.param_scheduler[:1]  # the warm-up, by iteration
    cfg.default_hooks.checkpoint.by_epoch = False
    cfg.default_hooks.checkpoint.interval = max_iters
    cfg.log_processor = dict(by_epoch=False)
    return cfg


def test_an_iteration_based_loop_sorts_where_epochs_would_start(
        cards_coco, tmp_path):
    """mmengine's IterBasedTrainLoop starts one epoch only (runner.epoch
    stays 0): channels are sorted every len(train_dataloader) iterations,
    as an epoch-based run's epochs start (not at the start, by default)."""
    cfg = _iteration_based(cards_runner_config(
        'netaug_ssdlite_mbv2_cards.py', cards_coco, tmp_path,
        train_images=4, test_images=1, batch_size=2, **{
            'custom_hooks.2.width_aug_stop': 1.0,
            'custom_hooks.2.bn_calibration_batches': 1,
            'train_dataloader.dataset.dataset.pipeline.4.scale': (160, 160),
            'val_dataloader.dataset.pipeline.1.scale': (160, 160)}), 5)
    runner = Runner.from_cfg(cfg)
    supernet = runner.model.supernet
    sorted_at, real = [], supernet.sort_channels

    def counting():
        sorted_at.append(runner.iter)
        return real()

    supernet.sort_channels = counting
    runner.train()
    assert runner.iter == 5
    assert sorted_at == [2, 4]


def test_an_epoch_count_under_an_iteration_based_loop_is_refused(
        cards_coco, tmp_path):
    cfg = _iteration_based(cards_runner_config(
        'netaug_ssdlite_mbv2_cards.py', cards_coco, tmp_path,
        **{'custom_hooks.2.netaug_stop_epoch': 1}), 4)
    runner = Runner.from_cfg(cfg)
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    with pytest.raises(ValueError, match='"netaug_stop_epoch" \\(1\\) counts '
                       'epochs, and this run\'s IterBasedTrainLoop'):
        runner.call_hook('before_run')


def test_two_netaug_hooks_are_refused(cards_coco, tmp_path):
    cfg = cards_runner_config('netaug_ssdlite_mbv2_cards.py', cards_coco,
                              tmp_path, epochs=1)
    cfg.custom_hooks.append(dict(type='NetAugHook'))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='2 NetAugHooks'):
        runner.call_hook('before_run')


def test_choices_that_widen_nothing_are_refused():
    from conftest import build_model
    with pytest.raises(ValueError) as error:
        build_model(**{
            'model.detector.backbone.width_choices': [1.0],
            'model.detector.backbone.expand_choices': [1.0]})
    assert 'width_choices=[1.0]' in str(error.value)
    assert 'expand_choices=[1.0]' in str(error.value)
    # one widened kind is enough
    build_model(**{'model.detector.backbone.width_choices': [1.0]})


@pytest.mark.parametrize('hook_setting,expected', [(False, False),
                                                   (None, True)])
def test_cudnn_benchmark_is_off_while_netaug_trains(cards_coco, tmp_path,
                                                    hook_setting, expected):
    """mmdet's SSDLite config turns cuDNN's benchmark mode on; NetAug's
    sampled widths would make it time every new convolution shape, so the
    hook turns it off for the run unless told to keep env_cfg's setting
    (None), and gives the process its setting back afterwards."""
    from mmdet_netaug.engine.hooks.netaug_hook import netaug_cudnn_benchmark
    cfg = cards_runner_config('netaug_ssdlite_mbv2_cards.py', cards_coco,
                              tmp_path, epochs=1)
    assert cfg.env_cfg.cudnn_benchmark
    hook_cfg = next(h for h in cfg.custom_hooks if h.type == 'NetAugHook')
    hook_cfg.cudnn_benchmark = hook_setting
    assert netaug_cudnn_benchmark(cfg) is expected
    try:
        runner = Runner.from_cfg(cfg)
        assert torch.backends.cudnn.benchmark  # env_cfg's
        runner.call_hook('before_run')
        assert torch.backends.cudnn.benchmark is expected
        runner.call_hook('after_run')
        assert torch.backends.cudnn.benchmark
    finally:
        torch.backends.cudnn.benchmark = False


def test_cudnn_benchmark_setting_is_read_from_any_form_of_the_hook(
        cards_coco, tmp_path):
    from mmdet_netaug.engine.hooks.netaug_hook import netaug_cudnn_benchmark
    cfg = cards_runner_config('netaug_ssdlite_mbv2_cards.py', cards_coco,
                              tmp_path, epochs=1)
    index = next(i for i, h in enumerate(cfg.custom_hooks)
                 if h.type == 'NetAugHook')
    for hook in (dict(type='mmdet.NetAugHook'), dict(type=NetAugHook),
                 NetAugHook()):
        cfg.custom_hooks[index] = hook
        assert netaug_cudnn_benchmark(cfg) is False
    cfg.custom_hooks[index] = dict(type='NetAugHook', cudnn_benchmark='yes')
    with pytest.raises(ValueError, match='cudnn_benchmark'):
        netaug_cudnn_benchmark(cfg)


def test_plain_configs_keep_their_cudnn_benchmark_setting(cards_coco,
                                                          tmp_path):
    from mmdet_netaug.engine.hooks.netaug_hook import netaug_cudnn_benchmark
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                              tmp_path, epochs=1)
    assert netaug_cudnn_benchmark(cfg) is True
    cfg.env_cfg.cudnn_benchmark = False
    assert netaug_cudnn_benchmark(cfg) is False
    cfg.env_cfg = None
    assert netaug_cudnn_benchmark(cfg) is False


def test_a_run_resumed_at_its_end_reestimates_on_the_switched_pipeline(
        cards_coco, tmp_path):
    """RTMDet's (and YOLOX's) data switch at an epoch's start
    (PipelineSwitchHook, YOLOXModeSwitchHook). A run resumed at its end
    validates before any epoch starts: the switch is applied first, so its
    BatchNorm re-estimation draws the second stage's images, as the
    uninterrupted run did (with the first stage's, the statistics differ)."""
    cfg = cards_runner_config('netaug_rtmdet_tiny_cards.py', cards_coco,
                              tmp_path, train_images=2, test_images=1,
                              epochs=2, batch_size=2)
    # a plain dataset, as in the COCO configs (the cards one repeats)
    cfg.train_dataloader.dataset = cfg.train_dataloader.dataset.dataset
    for hook in cfg.custom_hooks:
        if hook['type'] == 'NetAugHook':
            hook['bn_calibration_batches'] = 1
    stage2 = [dict(type='LoadImageFromFile'),
              dict(type='LoadAnnotations', with_bbox=True),
              dict(type='Resize', scale=(160, 160), keep_ratio=True),
              dict(type='Pad', size=(320, 320),
                   pad_val=dict(img=(114, 114, 114))),
              dict(type='PackDetInputs')]
    cfg.custom_hooks.insert(0, dict(type='PipelineSwitchHook',
                                    switch_epoch=1, switch_pipeline=stage2))
    cfg.custom_hooks.append(dict(type='FinalValidationHook'))
    seen = []

    def bn(model):
        return model.detector.backbone.backbone.stem[0].bn

    _train_seeing_validated_bn(cfg.copy(), bn, seen)
    validated = len(seen)  # the final epoch's validation last
    resumed = cfg.copy()
    resumed.resume, resumed.load_from = True, str(tmp_path / 'epoch_2.pth')
    _train_seeing_validated_bn(resumed, bn, seen)
    assert len(seen) == validated + 1
    assert torch.allclose(seen[-2], seen[-1])
