"""Anchor targets batched (``batched_targets=True``) against mmdet's
per-image ones (SSD's ``get_anchors`` and ``get_targets``, YOLOv3's
``responsible_flags`` and ``get_targets``): operator calls and time of
the target computation on one batch, then the training step time with
each, on the same batches, steps alternated, for the plain tiny model and
for NetAug. Checks on the way that both give the same targets, and the
same losses over as many steps as are timed: those run first, on copies
of the models, with deterministic kernels (on CUDA, atomics make two runs
of the same steps differ in the last bits otherwise); the timed steps run
with the default kernels (on CUDA with the cuBLAS workspace setting the
check needs, ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` unless set, which holds
for the whole process).

    python tools/analysis_tools/benchmark_batched_targets.py
        [NETAUG_CONFIG PLAIN_CONFIG] [--batch-size 8] [--steps 13]
        [--threads 1] [--device cpu]
"""
import argparse
import copy
import os
import time

import torch
from mmengine.optim import build_optim_wrapper
from torch.profiler import ProfilerActivity, profile

from mmdet.models.dense_heads import YOLOV3Head
from mmdet.models.utils import unpack_gt_instances
from mmdet_netaug.apis.benchmark import (
    ROLES, add_step_arguments, build_model, deterministic_kernels,
    prepare_step_benchmark, time_training)
from mmdet_netaug.models.batched_targets import use_batched_targets


def _head(model):
    return getattr(model, 'detector', model).bbox_head


def target_cost(head, batch, model, device: str, repeats: int = 5) -> dict:
    """Operator calls and median time of the anchors and targets of one
    batch: ``get_anchors`` and ``get_targets``, or for YOLOv3 the anchors,
    ``responsible_flags`` per image and ``get_targets``."""
    data = model.data_preprocessor(batch, True)
    gts, ignore, metas = unpack_gt_instances(data['data_samples'])
    detector = getattr(model, 'detector', model)
    with torch.no_grad():
        cls_scores = head(detector.extract_feat(data['inputs']))[0]
    sizes = [score.shape[-2:] for score in cls_scores]

    def call():
        if isinstance(head, YOLOV3Head):  # as its loss_by_feat calls them
            anchors = head.prior_generator.grid_priors(sizes, device=device)
            flags = [head.responsible_flags(sizes, g.bboxes, device)
                     for g in gts]
            return head.get_targets([anchors] * len(gts), flags, gts)
        anchors, valid = head.get_anchors(sizes, metas, device=device)
        return head.get_targets(anchors, valid, gts, metas, ignore)

    result = call()
    times = []
    for _ in range(repeats):
        if device == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        call()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    activities = [ProfilerActivity.CPU]
    with profile(activities=activities) as prof:
        call()
    ops = sum(e.count for e in prof.key_averages())
    return dict(result=result, ops=ops, time_s=sorted(times)[repeats // 2])


def same_targets(a, b) -> bool:
    """Per-level target lists (and SSD's avg_factor) equal bit for bit."""
    return len(a) == len(b) and all(
        all(torch.equal(x, y) for x, y in zip(la, lb))
        if isinstance(la, (list, tuple)) else la == lb
        for la, lb in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_step_arguments(parser, 'variant')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    args = parser.parse_args()
    if args.device == 'cuda':  # before cuBLAS starts: deterministic_kernels
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    cfgs, batches = prepare_step_benchmark(parser, args)
    for role in reversed(ROLES):  # plain first
        torch.manual_seed(0)
        mmdet = build_model(cfgs[role], role).to(args.device).train()
        batched = copy.deepcopy(mmdet)
        if not use_batched_targets(_head(batched)):
            raise SystemExit(f'{args.configs[ROLES.index(role)]}: its head '
                             'is not one batched targets reproduce')
        models = dict(mmdet=mmdet, batched=batched)
        costs = {key: target_cost(_head(m), batches[0], m, args.device)
                 for key, m in models.items()}
        if not same_targets(costs['mmdet']['result'],
                            costs['batched']['result']):
            raise SystemExit('batched targets differ from mmdet\'s')
        print(f'{role}: anchors + targets, batch '
              f'{args.batch_size}: mmdet '
              f'{costs["mmdet"]["ops"]} operator calls, '
              f'{costs["mmdet"]["time_s"] * 1e3:.1f} ms; batched '
              f'{costs["batched"]["ops"]} calls, '
              f'{costs["batched"]["time_s"] * 1e3:.1f} ms (ratio '
              f'{costs["batched"]["time_s"] / costs["mmdet"]["time_s"]:.3f})'
              ', identical targets', flush=True)
        steps = 3 + args.steps
        copies = {key: copy.deepcopy(m) for key, m in models.items()}
        with deterministic_kernels(args.device):
            check = time_training(
                copies, {key: build_optim_wrapper(m, cfgs[role].optim_wrapper)
                         for key, m in copies.items()},
                batches, 0, steps, args.device, 0, True,
                roles={key: role for key in models})
        del copies
        same = check['losses']['mmdet'] == check['losses']['batched']
        wrappers = {key: build_optim_wrapper(m, cfgs[role].optim_wrapper)
                    for key, m in models.items()}
        medians = time_training(models, wrappers, batches, 3, args.steps,
                                args.device, 0, True,
                                roles={key: role for key in models}
                                )['step_time_s']
        print(f'{role}: training step (median of {args.steps}): mmdet '
              f'{medians["mmdet"] * 1e3:.0f} ms, batched '
              f'{medians["batched"] * 1e3:.0f} ms, ratio '
              f'{medians["batched"] / medians["mmdet"]:.3f}; losses of '
              f'{steps} steps with deterministic kernels '
              f'{"identical" if same else "DIFFER"}', flush=True)


if __name__ == '__main__':
    main()
