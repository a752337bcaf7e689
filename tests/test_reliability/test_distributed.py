"""Distributed NetAug training: 2 CPU processes (gloo) under torchrun, through
``tools/train.py --launcher pytorch`` as ``tools/dist_train.sh`` runs it.

The config wraps the model in ``NetAugDistributedDataParallel`` (the tiny
pass back-propagated under ``no_sync``, the augmented pass's backward
all-reducing the sum) with ``find_unused_parameters=False``, so DDP
itself fails the run if a parameter gets no gradient in some step; the
recording hook checks it too (after the all-reduce, before the optimiser
step). The run distils the tiny pass from a frozen teacher (NetAug + KD),
which must stay out of DDP's parameters and of the checkpoints.
"""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.runner import Runner

from mmdet_netaug.engine import setup_cpu_distributed, uses_sync_bn
from mmdet_netaug.ops import DynamicSyncBatchNorm
from reliability_helpers import single_thread  # noqa: F401 (fixture)
from reliability_helpers import (HERE, add_recorder, recorder,
                                 small_netaug_config)

SYNC_BN = {
    'model.detector.backbone.backbone.norm_cfg.type': 'SyncBN',
    'model.detector.neck.norm_cfg.type': 'SyncBN',
    'model.detector.bbox_head.norm_cfg.type': 'SyncBN',
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture(scope='module')
def ddp_run(repo, cards_coco, tmp_path_factory):
    """2 epochs x 2 iterations on 8 cards images, 2 images per rank and
    step, a checkpoint (with BN re-estimation) every epoch, validation at
    the end; width augmentation stops after iteration 1."""
    work_dir = tmp_path_factory.mktemp('ddp')
    cfg = small_netaug_config(cards_coco, work_dir, train_images=8, val=True)
    cfg.custom_imports['imports'].append('netaug_test_hooks')
    teacher_config = str(repo / 'configs' / 'ssdlite_mbv2_w100_cards.py')
    teacher = MODELS.build(Config.fromfile(teacher_config).model)
    torch.save({'state_dict': teacher.state_dict()}, work_dir / 'teacher.pth')
    cfg.model.distill = dict(teacher_config=teacher_config,
                             teacher_checkpoint=str(work_dir / 'teacher.pth'))
    add_recorder(cfg, out_dir=str(work_dir))
    config = work_dir / 'netaug_ddp_cards.py'
    cfg.dump(str(config))
    env = dict(os.environ,
               OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [str(repo),
                    str(HERE),
                    os.environ.get('PYTHONPATH', '')]))
    command = [
        sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1',
        '--nproc_per_node', '2', '--master_addr', '127.0.0.1', '--master_port',
        str(_free_port()), 'tools/train.py',
        str(config), '--launcher', 'pytorch'
    ]
    result = subprocess.run(command,
                            cwd=repo,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    records = [
        json.loads((work_dir / f'rank{r}_record.json').read_text())
        for r in range(2)
    ]
    states = [
        torch.load(work_dir / f'rank{r}_state.pth', weights_only=True)
        for r in range(2)
    ]
    return dict(work_dir=work_dir,
                records=records,
                states=states,
                output=output)


def test_two_ranks_trained_under_ddp_with_gloo(ddp_run):
    for rank, record in enumerate(ddp_run['records']):
        assert record['rank'] == rank
        assert record['world_size'] == 2
        assert record['wrapper'] == 'NetAugDistributedDataParallel'
        assert [r['iter'] for r in record['iterations']] == [0, 1, 2, 3]
        assert all(r['finite'] for r in record['iterations'])
        assert {'loss_cls', 'aug_loss_cls', 'loss_bbox', 'aug_loss_bbox',
                'kd_loss_cls', 'kd_loss_bbox'} <= set(
                    record['iterations'][0]['losses'])
    # each rank saw its own half of the data
    losses = [[r['losses']['loss_cls'] for r in record['iterations']]
              for record in ddp_run['records']]
    assert losses[0] != losses[1]
    assert 'coco/bbox_mAP' in ddp_run['output']


def test_both_ranks_sampled_the_same_subnetwork_at_every_step(ddp_run):
    first, second = ddp_run['records']
    assert first['seed'] == second['seed']
    widths = [r['widths'] for r in first['iterations']]
    assert widths == [r['widths'] for r in second['iterations']]
    assert all(w is not None for w in widths)
    assert len({tuple(w) for w in widths}) > 1  # a new one every step
    assert [r['width_augmented']
            for r in first['iterations']] == [True, True, False, False]


def test_every_parameter_got_a_gradient_at_every_step(ddp_run):
    for record in ddp_run['records']:
        assert len(record['grad_checks']) == 4
        for check in record['grad_checks']:
            assert check['checked'] > 100
            assert check['missing'] == [], check['missing'][:5]
            assert check['nonfinite'] == [], check['nonfinite'][:5]


def test_tiny_model_is_identical_on_both_ranks(ddp_run):
    first, second = ddp_run['states']
    assert first.keys() == second.keys()
    for key in first:
        # parameters by DDP; BN statistics by the re-estimation's all-reduce
        assert torch.equal(first[key], second[key]), key
    saved = torch.load(ddp_run['work_dir'] / 'epoch_2.pth',
                       weights_only=False)['state_dict']
    for key in first:
        assert torch.equal(saved[key], first[key]), key
    assert saved.keys() == first.keys()
    assert all(k.startswith('detector.') for k in saved)  # no teacher


def test_sync_bn_is_refused_for_cpu_distributed_training(cards_coco, tmp_path):
    cfg = small_netaug_config(cards_coco, tmp_path, **SYNC_BN)
    assert uses_sync_bn(cfg)
    cfg.launcher = 'pytorch'
    with pytest.raises(ValueError, match='SyncBN needs GPUs'):
        setup_cpu_distributed(cfg)
    plain = small_netaug_config(cards_coco, tmp_path)
    assert not uses_sync_bn(plain)


def test_sync_bn_config_builds_traces_and_trains_in_one_process(
        cards_coco, tmp_path, single_thread):
    """mmengine's Runner reverts SyncBN to BN outside distributed training,
    DynamicSyncBatchNorm included; NetAugHook puts the dynamic layers
    back and they compute plain BatchNorm."""
    cfg = add_recorder(
        small_netaug_config(cards_coco, tmp_path, epochs=1, **SYNC_BN))
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    dynamic = [
        m for m in model.modules() if isinstance(m, DynamicSyncBatchNorm)
    ]
    assert len(dynamic) == len([
        m for m, _ in model.supernet.layers.values()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]) > 0
    assert all(
        model.detector.get_submodule(name) is m
        for name, (m, _) in model.supernet.layers.items())
    iterations = recorder(runner).iterations
    assert len(iterations) == 2 and all(r['finite'] for r in iterations)
    assert 'aug_loss_cls' in iterations[0]['losses']
