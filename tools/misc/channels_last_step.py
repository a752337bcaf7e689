"""Training step time in channels_last against the default memory layout
(NCHW), on the same batches, steps alternated, for the plain tiny model and
for NetAug (one thread on CPU by default): a lead for a cheaper CPU
protocol (the same float32 arithmetic in another layout). With ``--bf16``
also bfloat16 CPU autocast (``CPUAmpOptimWrapper``, what ``tools/train.py
--amp`` uses without a GPU) in each layout: other arithmetic, so a speed
lead only until an accuracy run shows it trains as well. On a CPU without
native bfloat16 support the wrapper trains in float32 instead (it warns):
``--bf16`` is refused there, as its rows would time float32.

    python tools/misc/channels_last_step.py [NETAUG_CONFIG PLAIN_CONFIG]
        [--batch-size 8] [--steps 13] [--threads 1] [--bf16]
"""
import argparse
import copy

import torch
from mmengine.optim import build_optim_wrapper

from mmdet_netaug.apis.benchmark import (ROLES, add_step_arguments,
                                         build_model, prepare_step_benchmark,
                                         time_training)
from mmdet_netaug.engine import cpu_supports_bf16


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_step_arguments(parser, 'layout')
    parser.add_argument('--bf16', action='store_true',
                        help='also time bfloat16 autocast in each layout')
    args = parser.parse_args()
    if args.bf16 and not cpu_supports_bf16():
        parser.error('--bf16: this CPU has no native bfloat16 support '
                     '(oneDNN bf16), so CPUAmpOptimWrapper would train, and '
                     'these rows time, float32')
    cfgs, batches = prepare_step_benchmark(parser, args)
    for role in reversed(ROLES):  # plain first
        torch.manual_seed(0)
        nchw = build_model(cfgs[role], role).train()
        models = dict(nchw=nchw, channels_last=copy.deepcopy(nchw).to(
            memory_format=torch.channels_last))
        wrapper_cfgs = {key: cfgs[role].optim_wrapper for key in models}
        if args.bf16:
            bf16 = copy.deepcopy(cfgs[role].optim_wrapper)
            bf16.type = 'CPUAmpOptimWrapper'
            for key in list(models):
                models[f'{key}+bf16'] = copy.deepcopy(models[key])
                wrapper_cfgs[f'{key}+bf16'] = bf16
        wrappers = {key: build_optim_wrapper(m, wrapper_cfgs[key])
                    for key, m in models.items()}
        medians = time_training(models, wrappers, batches, 3, args.steps,
                                'cpu', 0, True,
                                roles={key: role for key in models}
                                )['step_time_s']
        base = medians['nchw']
        print(f'{role}: NCHW {base * 1e3:.0f} ms a step (median); ' +
              ', '.join(f'{key} {t * 1e3:.0f} ms, ratio {t / base:.2f}'
                        for key, t in medians.items() if key != 'nchw'),
              flush=True)

if __name__ == '__main__':
    main()
