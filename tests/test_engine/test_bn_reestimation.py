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
