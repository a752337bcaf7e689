"""A recording hook for the reliability tests, loadable in a config through
``custom_imports=dict(imports=['mmdet_netaug', 'netaug_test_hooks'])``
with this folder on ``PYTHONPATH`` (the distributed test runs
``tools/train.py`` under torchrun in subprocesses)."""
import json
import math
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdet.registry import HOOKS


@HOOKS.register_module()
class RecordTrainingHook(Hook):
    """Records, every training iteration, the augmented sub-network, whether
    widths are augmented, the learning rate and the logged losses; after
    each backward pass (an optimiser step pre-hook, i.e. after DDP's
    gradient all-reduce, before ``zero_grad``), the trainable parameters
    without a gradient or with a non-finite one.

    It runs after ``NetAugHook`` (lower priority), so the scheduled widths
    are the sub-network of the coming step.

    Args:
        out_dir (str, optional): Where to write ``rank{r}_record.json`` and
            the unwrapped model's ``rank{r}_state.pth`` after the run.
        stop_after_epoch (int, optional): Stop training after this many
            epochs (the checkpoint of that epoch is still saved): an
            interrupted run with the full run's schedule.
    """
    priority = 'LOW'

    def __init__(self, out_dir=None, stop_after_epoch=None):
        self.out_dir = out_dir
        self.stop_after_epoch = stop_after_epoch
        self.iterations = []
        self.grad_checks = []

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(
            runner.model) else runner.model

    @staticmethod
    def _netaug_hook(runner):
        return next(h for h in runner.hooks
                    if type(h).__name__ == 'NetAugHook')

    def before_train(self, runner):
        model = self._model(runner)
        params = [(n, p) for n, p in model.named_parameters()
                  if p.requires_grad]

        def check(optimizer, args, kwargs):
            self.grad_checks.append(
                dict(checked=len(params),
                     missing=[n for n, p in params if p.grad is None],
                     nonfinite=[
                         n for n, p in params if p.grad is not None
                         and not torch.isfinite(p.grad).all()
                     ]))

        runner.optim_wrapper.optimizer.register_step_pre_hook(check)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        widths = self._model(runner).scheduled_widths()
        self.iterations.append(
            dict(iter=runner.iter,
                 epoch=runner.epoch,
                 widths=None if widths is None else list(widths),
                 width_augmented=self._netaug_hook(runner).width_augmented(
                     runner.iter, runner.max_iters),
                 lr=runner.optim_wrapper.get_lr()['lr'][0]))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        losses = {
            k: float(torch.as_tensor(v).detach())
            for k, v in (outputs or {}).items() if 'loss' in k
        }
        self.iterations[-1]['losses'] = losses
        self.iterations[-1]['finite'] = all(
            math.isfinite(v) for v in losses.values())

    def after_train_epoch(self, runner):
        if (self.stop_after_epoch is not None
                and runner.epoch + 1 >= self.stop_after_epoch):
            runner.train_loop.stop_training = True

    def after_run(self, runner):
        if self.out_dir is None:
            return
        rank = get_rank()
        record = dict(rank=rank,
                      iterations=self.iterations,
                      grad_checks=self.grad_checks,
                      seed=self._netaug_hook(runner).seed,
                      world_size=runner.world_size,
                      wrapper=type(runner.model).__name__)
        with open(osp.join(self.out_dir, f'rank{rank}_record.json'), 'w') as f:
            json.dump(record, f)
        torch.save(
            self._model(runner).state_dict(),
            osp.join(self.out_dir, f'rank{rank}_state.pth'))
