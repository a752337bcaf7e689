"""BatchNorm re-estimation as a component of its own: ReestimateBNHook on a
plain detector (no NetAug)."""
import torch
from mmengine.runner import Runner

from conftest import cards_runner_config


def test_reestimate_bn_hook_on_a_plain_detector(cards_coco, tmp_path):
    torch.set_num_threads(1)
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                              tmp_path, train_images=4, test_images=2,
                              batch_size=2, epochs=1, **{
                                  'train_dataloader.dataset.dataset.pipeline'
                                  '.4.scale': (160, 160),
                                  'val_dataloader.dataset.pipeline.1.scale':
                                  (160, 160),
                              })
    cfg.custom_hooks.append(dict(type='ReestimateBNHook', num_batches=2))
    runner = Runner.from_cfg(cfg)
    hook = next(h for h in runner.hooks
                if type(h).__name__ == 'ReestimateBNHook')
    estimates = []
    real = hook.reestimation.recalibrate

    def counting(runner, seed):
        estimates.append(runner.iter)
        return real(runner, seed)

    hook.reestimation.recalibrate = counting
    runner.train()
    # once into the checkpoint (after the last iteration), none again
    # before validation: nothing trained in between
    assert estimates == [2]
    assert not hook.reestimation.stale
    saved = torch.load(tmp_path / 'epoch_1.pth',
                       weights_only=False)['state_dict']
    model = runner.model.state_dict()
    key = 'backbone.conv1.bn.running_mean'
    assert torch.equal(saved[key], model[key])
    # the estimate is a function of the seed and the iteration
    before = model[key].clone()
    runner.model.backbone.conv1.bn.running_mean.add_(1.0)
    real(runner, hook.seed)
    assert torch.equal(runner.model.state_dict()[key], before)


def test_reestimation_in_workers_is_the_same_after_a_resume(cards_coco,
                                                            tmp_path):
    """With dataloader workers, the augmentation of the re-estimation
    batches is seeded by the estimate, not by the training loader's seed of
    the epoch the re-estimation loader was built in (EpochSeedHook changes
    it every epoch): a run resumed at another epoch re-estimates the same
    statistics as the uninterrupted one."""
    from mmdet_netaug.engine.hooks.epoch_seed import EpochSeedHook
    from mmdet_netaug.engine.hooks.bn_reestimation import \
        BatchNormReestimation
    torch.set_num_threads(1)
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards.py', cards_coco,
                              tmp_path, train_images=4, batch_size=2,
                              epochs=1, **{
                                  'train_dataloader.num_workers': 2,
                                  'train_dataloader.dataset.dataset.pipeline'
                                  '.4.scale': (160, 160),
                              })
    runner = Runner.from_cfg(cfg)
    bn = runner.model.backbone.conv1.bn
    start = {k: v.clone() for k, v in bn.state_dict().items()}
    estimates = []
    for built_at in (4, 29):  # the epoch each run built its loader in
        runner.train_loop._epoch = built_at
        EpochSeedHook().before_train_epoch(runner)
        bn.load_state_dict(start)
        BatchNormReestimation(num_batches=2).recalibrate(runner, seed=0)
        estimates.append(bn.running_mean.clone())
    assert not torch.equal(estimates[0], start['running_mean'])
    assert torch.equal(estimates[0], estimates[1])


def test_a_resumed_run_keeps_the_reestimation_seed(cards_coco, tmp_path):
    """Without randomness.seed mmengine draws a seed, and on resume takes
    the checkpoint's only after the hooks' before_run: the hook keeps its
    seed in the checkpoint and takes it back, so the resumed run
    re-estimates on the batches the uninterrupted one would."""
    torch.set_num_threads(1)
    seeds = []
    for epochs, resume in ((1, None), (2, tmp_path / 'epoch_1.pth')):
        cfg = cards_runner_config(
            'ssdlite_mbv2_w035_cards.py', cards_coco, tmp_path,
            train_images=2, test_images=1, batch_size=2, epochs=epochs, **{
                'randomness.seed': None,
                'train_cfg.val_interval': 5,
                'train_dataloader.dataset.dataset.pipeline.4.scale':
                (160, 160)})
        cfg.custom_hooks.append(dict(type='ReestimateBNHook', num_batches=1))
        if resume:
            cfg.resume, cfg.load_from = True, str(resume)
        runner = Runner.from_cfg(cfg)
        runner.train()
        hook = next(h for h in runner.hooks
                    if type(h).__name__ == 'ReestimateBNHook')
        seeds.append((hook.seed, runner.seed))
    (first, first_run), (resumed, resumed_run) = seeds
    assert resumed == first == first_run == resumed_run


def test_reestimation_leaves_yolox_random_resize_alone(cards_coco,
                                                       tmp_path):
    """YOLOX's BatchSyncRandomResize keeps the size it drew and draws anew
    by the message hub's iteration. The re-estimation leaves it out: the
    statistics do not depend on the size the training had reached (nor on
    the iteration), and the training goes on at its own size."""
    from mmengine.logging import MessageHub

    from mmdet_netaug.models.bn_calibration import recalibrate_batchnorm
    torch.set_num_threads(1)
    cfg = cards_runner_config(
        'yolox_tiny_cards.py', cards_coco, tmp_path, train_images=4,
        batch_size=2, epochs=1, **{
            'model.data_preprocessor.batch_augments.0.interval': 1,
            'model.data_preprocessor.batch_augments.0.random_size_range':
            (320, 480)})
    runner = Runner.from_cfg(cfg)
    model = runner.model
    resize = model.data_preprocessor.batch_augments[0]
    batches = list(runner.train_dataloader)[:2]
    hub = MessageHub.get_current_instance()
    key = 'backbone.stem.conv.bn.running_mean'
    found = []
    for iteration, size in ((0, (352, 352)), (1, (448, 448))):
        hub.update_info('iter', iteration)
        resize._input_size = size
        recalibrate_batchnorm(model, batches, 2)
        assert resize._input_size == size  # the training's, untouched
        assert model.data_preprocessor.batch_augments[0] is resize
        found.append(model.state_dict()[key].clone())
    assert torch.equal(found[0], found[1])
