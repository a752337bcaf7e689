"""max_keep_ckpts=1: a save that fails or is killed keeps the previous
checkpoint, and temporary files of a killed save are cleaned up."""
import pytest
from mmengine.hooks import Hook
from mmengine.runner import Runner

from conftest import cards_runner_config
from mmdet.registry import HOOKS
from mmdet_netaug.engine import CheckedRunner, KeepPreviousCheckpointHook


class SaveFailed(RuntimeError):
    pass


@HOOKS.register_module()
class FailSecondSaveHook(Hook):
    """Fails the checkpoint save of epoch 2 (as a full disk or a kill
    would), after mmengine's hook has made room for it."""

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['epoch'] == 2:
            raise SaveFailed('save of epoch 2 failed')


def run(runner_cls, cards_coco, work_dir):
    cfg = cards_runner_config(
        'ssdlite_mbv2_w035_cards.py', cards_coco, work_dir, epochs=2,
        train_images=4, **{'default_hooks.checkpoint.interval': 1,
                           'default_hooks.checkpoint.max_keep_ckpts': 1,
                           'train_cfg.val_interval': 10})
    cfg.custom_hooks = [dict(type='FailSecondSaveHook')]
    runner = runner_cls.from_cfg(cfg)
    with pytest.raises(SaveFailed):
        runner.train()
    return runner


def test_stock_hook_loses_the_only_checkpoint(cards_coco, tmp_path):
    run(Runner, cards_coco, tmp_path)
    assert not list(tmp_path.glob('epoch_*.pth'))


def test_previous_checkpoint_kept_and_leftovers_removed(cards_coco,
                                                        tmp_path):
    leftover = tmp_path / '.epoch_7.pth.x1y2.tmp'
    leftover.write_bytes(b'half a checkpoint')
    runner = run(CheckedRunner, cards_coco, tmp_path)
    assert any(isinstance(h, KeepPreviousCheckpointHook)
               for h in runner.hooks)
    assert [p.name for p in tmp_path.glob('epoch_*.pth')] == ['epoch_1.pth']
    assert not leftover.exists()


def test_oldest_removed_after_a_complete_save(cards_coco, tmp_path):
    cfg = cards_runner_config(
        'ssdlite_mbv2_w035_cards.py', cards_coco, tmp_path, epochs=3,
        train_images=4, **{'default_hooks.checkpoint.interval': 1,
                           'default_hooks.checkpoint.max_keep_ckpts': 1,
                           'train_cfg.val_interval': 10})
    CheckedRunner.from_cfg(cfg).train()
    assert [p.name for p in tmp_path.glob('epoch_*.pth')] == ['epoch_3.pth']
