"""Benchmark NetAug against its plain baseline: training cost and inference
parity of the exported tiny model.

    python tools/analysis_tools/benchmark_netaug.py NETAUG_CONFIG PLAIN_CONFIG
        [--checkpoint CKPT] [--device cpu|cuda] [--batch-size 8]
        [--steps 20] [--warmup 3] [--infer-steps 50] [--out result.json]
        [--cfg-options key=value ...] [--netaug-options key=value ...]

Training: both models run real training steps (data preprocessor, loss,
backward, optimiser step with the optimiser that each config's
``optim_wrapper`` builds) on the same training batches, prefetched once from
the NetAug config's train dataloader. The two models alternate step by step
(and swap which goes first every step) so that drift of the machine cancels;
the median step times and their ratio are reported. The NetAug model trains
with an augmented sub-network drawn every step, as ``NetAugHook`` does while
widths are augmented (``--no-width-aug``: as in the second part of training,
where only the hidden channels of blocks are augmented).

Memory: each model's training runs again, alone, in a child process of its
own (so that the other model, the data loader and this process's history do
not count), on the same batches and sub-networks: the peak resident memory of
the training steps on CPU (``VmHWM``, reset once the model is built), and
``torch.cuda.max_memory_allocated`` on CUDA.

Inference: the tiny model exported from the NetAug model
(``model.export_plain()``) against the plain baseline built from the plain
config, with the exported weights loaded strictly into it: parameters and
FLOPs (must be equal), the median latency of ``_forward`` at batch 1
(alternated), and the largest absolute difference between the exported
model's and the supernet's tiny-mode raw outputs (must be 0).

The last printed line holds the ratios (NetAug / plain); ``--out`` saves all
numbers as JSON.
"""
import argparse
import copy
import tempfile
from typing import Optional, Sequence

import mmengine
import torch
import torch.nn.functional as F
from mmengine.config import DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.runner import set_random_seed

import mmdet
from mmdet.utils import register_all_modules
from mmdet_netaug.apis.benchmark import (ROLES, _finite, _ratio,
                                         apply_cudnn_benchmark, build_model,
                                         format_table, inference_parity,
                                         load_configs, measure_memory,
                                         memory_worker, prefetch_batches,
                                         time_training)
from mmdet_netaug.utils.records import cpu_model, write_json



def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark a NetAug config against its plain baseline '
        '(training step time and memory, inference parity of the exported '
        'tiny model)')
    parser.add_argument('netaug_config', help='NetAug training config')
    parser.add_argument('plain_config', help='plain baseline config (the '
                        'same tiny model trained without NetAug)')
    parser.add_argument('--checkpoint', help='checkpoint of the NetAug model '
                        '(default: the config\'s own initialisation, which '
                        'for RTMDet-tiny downloads its ImageNet backbone)')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        default='cuda' if torch.cuda.is_available() else
                        'cpu', help='default: cuda if available')
    parser.add_argument('--batch-size', type=int,
                        help='training batch size (default: the config\'s)')
    parser.add_argument('--steps', type=int, default=20,
                        help='measured training steps per model (default: '
                        '20)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='unmeasured warm-up steps (training) and '
                        'forwards (inference) per model (default: 3)')
    parser.add_argument('--infer-steps', type=int, default=50,
                        help='measured inference forwards per model at '
                        'batch 1 (default: 50)')
    parser.add_argument('--memory-steps', type=int,
                        help='training steps of each memory child process '
                        '(default: warmup + steps, the same sub-networks as '
                        'the timing; 0 skips the memory measurement)')
    parser.add_argument('--input-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='image size for inference and FLOPs (default: '
                        'the size of the training images)')
    parser.add_argument('--no-width-aug', action='store_true',
                        help='augment only the hidden channels of blocks, as '
                        'NetAugHook does after width_aug_stop')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data, the initialisation and the '
                        'sampled sub-networks (default: 0)')
    parser.add_argument('--threads', type=int,
                        help='CPU threads of torch (default: torch\'s own '
                        'choice). On a machine that other jobs share, use 1: '
                        'oversubscribed OpenMP threads can slow every op '
                        'down tenfold and more, at random')
    parser.add_argument('--out', help='save the numbers to this JSON file')
    parser.add_argument('--check', action='store_true',
                        help='exit with status 1 unless parameters, FLOPs '
                        'and state-dict keys match and the exported model\'s '
                        'outputs equal the supernet\'s tiny mode exactly')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of both configs (key=value), '
                        'e.g. train_dataloader.dataset.dataset.data_root=...')
    parser.add_argument('--netaug-options', nargs='+', action=DictAction,
                        help='override settings of the NetAug config only, '
                        'e.g. model.separate_backward=False')
    parser.add_argument('--memory-worker', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ('steps', 'infer_steps'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    if args.batch_size is not None and args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    if args.threads is not None and args.threads < 1:
        parser.error('--threads must be >= 1')
    if args.memory_steps is not None and args.memory_steps < 0:
        parser.error('--memory-steps must be >= 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: CUDA is not available')
    return args


# -- main ------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict:
    """Run the whole benchmark and return its numbers."""
    register_all_modules()
    if args.threads:
        torch.set_num_threads(args.threads)
    set_random_seed(args.seed)
    device = args.device
    cfgs = load_configs(args.netaug_config, args.plain_config,
                        args.cfg_options, args.batch_size,
                        args.netaug_options)
    apply_cudnn_benchmark(cfgs['netaug'], device)
    if (cfgs['netaug'].train_dataloader.dataset !=
            cfgs['plain'].train_dataloader.dataset):
        print('warning: the two configs\' training datasets differ; both '
              'models train on the NetAug config\'s batches')

    # Models: the NetAug supernet, its exported tiny model, and the plain
    # baseline from the plain config holding the exported weights (strict
    # load: the architectures are the same), so that both train from the
    # same tiny weights and inference compares structure alone.
    netaug = build_model(cfgs['netaug'], 'netaug', args.checkpoint)
    netaug.eval()
    exported = netaug.export_plain().eval()
    plain = build_model(cfgs['plain'], 'plain')
    try:
        plain.load_state_dict(exported.state_dict(), strict=True)
        strict_load = True
    except RuntimeError as err:
        print(f'warning: the exported weights do not load strictly into the '
              f'plain baseline ({str(err).splitlines()[0]})')
        strict_load = False

    num_batches = args.warmup + args.steps
    memory_steps = (num_batches
                    if args.memory_steps is None else args.memory_steps)
    batches = prefetch_batches(cfgs['netaug'],
                               max(num_batches, memory_steps), args.seed)
    batch_size = len(batches[0]['inputs'])

    # Inference first, on the untrained (or checkpoint) weights.
    with torch.no_grad():
        images = plain.data_preprocessor(copy.deepcopy(batches[0]),
                                         False)['inputs'].cpu()
    if args.input_size:
        images = F.interpolate(images, size=tuple(args.input_size),
                               mode='bilinear', align_corners=False)
    inference = inference_parity(netaug, exported, plain, images,
                                 args.warmup, args.infer_steps, device)
    inference['strict_load'] = strict_load
    del exported

    models = dict(netaug=netaug.train(), plain=plain.train())
    optim_wrappers = {
        role: build_optim_wrapper(models[role], cfgs[role].optim_wrapper)
        for role in ROLES
    }
    train = time_training(models, optim_wrappers, batches, args.warmup,
                          args.steps, device, args.seed,
                          not args.no_width_aug)
    for role in ROLES:
        if not all(map(_finite, train['losses'][role])):
            print(f'warning: the {role} model\'s loss became non-finite '
                  '(timings may be unrepresentative)')
    del models, optim_wrappers, netaug, plain
    if device == 'cuda':
        torch.cuda.empty_cache()

    memory = None
    if memory_steps > 0:
        with tempfile.TemporaryDirectory(prefix='netaug_bench_') as tmp:
            raw = measure_memory(args, batches, tmp, memory_steps)
        cuda = device == 'cuda'
        # without a reset of the peak mark after the build (not Linux), the
        # peak is the whole process's: building and loading included
        training_only = cuda or all(raw[role]['peak_rss_is_training_only']
                                    for role in ROLES)
        memory = dict(kind='CUDA allocated' if cuda else 'peak RSS'
                      if training_only else 'process peak RSS',
                      steps=memory_steps)
        for role in ROLES:
            r = raw[role]
            peak = r['peak_cuda_mib'] if cuda else r['peak_rss_mib']
            before = r['cuda_before_mib'] if cuda else r['rss_before_mib']
            memory[role] = dict(
                r, peak_mib=peak,
                increase_mib=None if before is None or not training_only
                else peak - before)
        for key in ('peak', 'increase'):
            memory[key + '_ratio'] = _ratio(memory['netaug'][key + '_mib'],
                                            memory['plain'][key + '_mib'])

    if device == 'cuda':
        device_name = torch.cuda.get_device_name()
    else:
        device_name = (f'cpu ({cpu_model()}, '
                       f'{torch.get_num_threads()} thread(s))')
    parity_ok = bool(inference['params_equal'] and inference['flops_equal']
                     and strict_load)
    result = dict(
        device=device_name,
        torch=torch.__version__,
        mmdet=mmdet.__version__,
        mmengine=mmengine.__version__,
        threads=torch.get_num_threads() if device == 'cpu' else None,
        configs=dict(netaug=args.netaug_config, plain=args.plain_config),
        checkpoint=args.checkpoint,
        batch_size=batch_size,
        steps=args.steps,
        warmup=args.warmup,
        infer_steps=args.infer_steps,
        width_aug=not args.no_width_aug,
        seed=args.seed,
        cfg_options=args.cfg_options,
        netaug_options=args.netaug_options,
        train=train,
        memory=memory,
        inference=inference,
        parity_ok=parity_ok,
        ratios=dict(
            train_step_time=train['step_time_ratio'],
            train_memory_peak=memory['peak_ratio'] if memory else None,
            train_memory_increase=memory['increase_ratio']
            if memory else None,
            inference_latency=inference['latency_ratio']))
    return result


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.memory_worker:
        memory_worker(args.memory_worker)
        return {}
    result = run(args)
    print(format_table(result))
    if args.out:
        write_json(args.out, result, default=str)
    if args.check and not (result['parity_ok']
                           and result['inference']['max_abs_diff'] == 0):
        raise SystemExit('inference parity check failed (see the table)')
    return result


if __name__ == '__main__':
    main()
