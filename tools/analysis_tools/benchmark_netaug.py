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
import json
import os.path as osp
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

import mmengine
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner, set_random_seed

import mmdet
import mmdet_netaug  # noqa: F401  (registers NetAug and applies fixes)
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmdet_netaug.apis import (build_netaug_model, flatten_outputs,
                               model_complexity)
from mmdet_netaug.engine.hooks import sample_widths
from mmdet_netaug.models import NetAugDetector
from mmdet_netaug.utils.records import cpu_model, write_json

ROLES = ('netaug', 'plain')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark a NetAug config against its plain baseline '
        '(training step time and memory, inference parity of the exported '
        'tiny model)')
    parser.add_argument('netaug_config', help='NetAug training config')
    parser.add_argument('plain_config', help='plain baseline config (the '
                        'same tiny model trained without NetAug)')
    parser.add_argument('--checkpoint', help='checkpoint of the NetAug model '
                        '(default: random initialisation)')
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


# -- building --------------------------------------------------------------
def load_configs(netaug_config: str, plain_config: str,
                 cfg_options: Optional[dict] = None,
                 batch_size: Optional[int] = None,
                 netaug_options: Optional[dict] = None) -> Dict[str, Config]:
    """Both configs with the same overrides applied (and
    ``netaug_options`` to the NetAug config alone)."""
    cfgs = {}
    for role, path in zip(ROLES, (netaug_config, plain_config)):
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(copy.deepcopy(cfg_options))
        if role == 'netaug' and netaug_options:
            cfg.merge_from_dict(copy.deepcopy(netaug_options))
        if batch_size is not None:
            cfg.train_dataloader.batch_size = batch_size
        cfgs[role] = cfg
    return cfgs


def build_model(cfg: Config, role: str, checkpoint: Optional[str] = None
                ) -> torch.nn.Module:
    """The NetAug model (checkpoint, or random initialisation) or the plain
    baseline (random initialisation)."""
    if role == 'netaug':
        model = build_netaug_model(cfg, checkpoint)
        if checkpoint is None:
            model.init_weights()
    else:
        model = MODELS.build(cfg.model)
        if isinstance(model, NetAugDetector):
            raise TypeError('the plain config builds a NetAugDetector: pass '
                            'the plain baseline config second')
        model.init_weights()
    return model


def aug_widths(model: NetAugDetector, seed: int, step: int,
               width_aug: bool = True):
    """The augmented sub-network of a step: NetAugHook's own sampler (the
    sub-network training draws at this iteration with this seed)."""
    return sample_widths(model, seed, step, width_aug)


def train_step(model, optim_wrapper, batch: dict, role: str, step: int,
               seed: int, width_aug: bool = True) -> torch.Tensor:
    """One training step as mmengine's train loop runs it (NetAugHook's
    sampling first for the NetAug model): ``model.train_step`` runs the data
    preprocessor, the loss, backward and the optimiser step. Returns the
    total loss."""
    if role == 'netaug':  # the sub-network NetAugHook would choose
        log_vars = model.train_step(
            batch, optim_wrapper,
            aug_widths=aug_widths(model, seed, step, width_aug))
    else:
        log_vars = model.train_step(batch, optim_wrapper)
    return log_vars['loss']


def prefetch_batches(cfg: Config, num: int, seed: int) -> List[dict]:
    """``num`` training batches of the config's train dataloader (cycled if
    the loader has fewer)."""
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=seed)
    batches = []
    iterator = iter(loader)
    while len(batches) < num:
        try:
            batches.append(next(iterator))
        except StopIteration:
            if not batches:
                raise RuntimeError('the train dataloader yields no batch')
            iterator = iter(loader)
    del iterator, loader  # stops the workers before anything is timed
    return batches


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _ratio(a, b) -> Optional[float]:
    return None if a is None or b is None or b == 0 else a / b


# -- memory (child processes) ----------------------------------------------
def _proc_status_kib(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            match = re.search(rf'^{field}:\s+(\d+)\s+kB', f.read(), re.M)
        return int(match.group(1)) if match else None
    except OSError:
        return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux), so that the peak is the
    training's and not the model construction's."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def memory_worker(spec_file: str) -> None:
    """Child process: train one model alone and write its peak memory."""
    with open(spec_file) as f:
        spec = json.load(f)
    register_all_modules()
    torch.set_num_threads(spec['num_threads'])
    set_random_seed(spec['seed'])
    cfgs = load_configs(spec['netaug_config'], spec['plain_config'],
                        spec['cfg_options'], spec['batch_size'],
                        spec['netaug_options'])
    role, device = spec['role'], spec['device']
    model = build_model(cfgs[role], role,
                        spec['checkpoint'] if role == 'netaug' else None)
    model.to(device).train()
    optim_wrapper = build_optim_wrapper(model, cfgs[role].optim_wrapper)
    # the parent's batches again (same config data, seed and count), so
    # that nothing is unpickled: no torch.load(weights_only=False)
    batches = prefetch_batches(cfgs['netaug'], spec['steps'], spec['seed'])
    _sync(device)
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
        cuda_before = torch.cuda.memory_allocated()
    rss_before = _proc_status_kib('VmRSS')
    reset = _reset_peak_rss()
    for step in range(spec['steps']):
        train_step(model, optim_wrapper, batches[step % len(batches)], role,
                   step, spec['seed'], spec['width_aug'])
    _sync(device)
    peak = _proc_status_kib('VmHWM') if reset else None
    if peak is None:  # no reset possible: the whole process's peak
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = dict(
        steps=spec['steps'],
        peak_rss_mib=peak / 1024,
        rss_before_mib=None if rss_before is None else rss_before / 1024,
        peak_rss_is_training_only=reset)
    if device == 'cuda':
        result.update(
            peak_cuda_mib=torch.cuda.max_memory_allocated() / 2**20,
            cuda_before_mib=cuda_before / 2**20)
    with open(spec['result'], 'w') as f:
        json.dump(result, f)


def measure_memory(args, batches: List[dict], tmp_dir: str,
                   steps: int) -> Dict[str, dict]:
    """Run each model's training in a child process of its own."""
    results = {}
    for role in ROLES:
        spec = dict(
            role=role,
            netaug_config=osp.abspath(args.netaug_config),
            plain_config=osp.abspath(args.plain_config),
            cfg_options=args.cfg_options,
            netaug_options=args.netaug_options,
            batch_size=args.batch_size,
            checkpoint=args.checkpoint,
            device=args.device,
            seed=args.seed,
            width_aug=not args.no_width_aug,
            steps=steps,
            num_threads=torch.get_num_threads(),
            result=osp.join(tmp_dir, f'memory_{role}.json'))
        spec_file = osp.join(tmp_dir, f'memory_{role}.json')
        with open(spec_file, 'w') as f:
            json.dump(spec, f)
        proc = subprocess.run(
            [sys.executable, osp.abspath(__file__), args.netaug_config,
             args.plain_config, '--memory-worker', spec_file],
            capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f'memory measurement of the {role} model '
                               f'failed:\n{proc.stderr[-3000:]}')
        with open(spec['result']) as f:
            results[role] = json.load(f)
    return results


# -- inference parity ------------------------------------------------------
def inference_parity(netaug, exported, plain, images: torch.Tensor,
                     warmup: int, steps: int, device: str) -> dict:
    """Parameters, FLOPs and latency of the exported tiny model against the
    plain baseline, and the exported model's difference to the supernet's
    tiny mode."""
    size = tuple(images.shape[-2:])
    complexity = dict(
        exported=model_complexity(exported, size),
        plain=model_complexity(plain, size))
    for model in (netaug, exported, plain):
        model.to(device).eval()
    images = images.to(device)
    with torch.no_grad():
        ours = flatten_outputs(exported._forward(images))
        theirs = flatten_outputs(netaug._forward(images))
    if len(ours) != len(theirs) or any(a.shape != b.shape
                                       for a, b in zip(ours, theirs)):
        max_abs_diff = float('inf')
    else:
        max_abs_diff = max((a - b).abs().max().item()
                           for a, b in zip(ours, theirs))

    image = images[:1]
    models = dict(exported=exported, plain=plain, supernet_tiny=netaug)
    times = {name: [] for name in models}
    order = list(models)
    with torch.no_grad():
        for step in range(warmup + steps):
            for name in order:
                _sync(device)
                start = time.perf_counter()
                models[name]._forward(image)
                _sync(device)
                if step >= warmup:
                    times[name].append(time.perf_counter() - start)
            order = order[1:] + order[:1]  # rotate who goes first
    latency = {name: _median(t) for name, t in times.items()}
    return dict(
        input_size=list(size),
        exported=complexity['exported'],
        plain=complexity['plain'],
        params_equal=(complexity['exported']['params'] ==
                      complexity['plain']['params']),
        flops_equal=(complexity['exported']['flops'] ==
                     complexity['plain']['flops']),
        max_abs_diff=max_abs_diff,
        latency_s=latency,
        latency_times_s=times,
        latency_ratio=_ratio(latency['exported'], latency['plain']))


# -- training time ---------------------------------------------------------
def time_training(models: dict, optim_wrappers: dict, batches: List[dict],
                  warmup: int, steps: int, device: str, seed: int,
                  width_aug: bool) -> dict:
    """Alternate the models step by step on the same batches."""
    times = {role: [] for role in ROLES}
    losses = {role: [] for role in ROLES}
    for step in range(warmup + steps):
        batch = batches[step % len(batches)]
        order = ROLES if step % 2 == 0 else ROLES[::-1]
        for role in order:
            _sync(device)
            start = time.perf_counter()
            loss = train_step(models[role], optim_wrappers[role], batch,
                              role, step, seed, width_aug)
            _sync(device)
            elapsed = time.perf_counter() - start
            losses[role].append(float(loss))
            if step >= warmup:
                times[role].append(elapsed)
    medians = {role: _median(times[role]) for role in ROLES}
    return dict(
        step_time_s=medians,
        step_times_s=times,
        losses=losses,
        step_time_ratio=_ratio(medians['netaug'], medians['plain']))


# -- report ----------------------------------------------------------------
def _fmt(value, scale=1.0, digits=3) -> str:
    if value is None:
        return '-'
    return f'{value * scale:.{digits}f}'


def _fmt_ratio(value) -> str:
    return '-' if value is None else f'{value:.3f}x'


def format_table(result: dict) -> str:
    train, infer, memory = (result['train'], result['inference'],
                            result.get('memory'))
    width = 74
    rows = [
        f'NetAug benchmark: {result["configs"]["netaug"]} vs '
        f'{result["configs"]["plain"]}',
        f'device {result["device"]} | torch {result["torch"]} | batch '
        f'{result["batch_size"]} | {result["steps"]} steps after '
        f'{result["warmup"]} warm-up | width aug '
        f'{"on" if result["width_aug"] else "off"}'
        + ('' if result.get('netaug_options') is None else
           f' | NetAug options {result["netaug_options"]}'),
        '-' * width,
        f'{"training (same batches, alternated)":<38}{"NetAug":>12}'
        f'{"plain":>12}{"ratio":>12}',
        f'{"  step time, median (ms)":<38}'
        f'{_fmt(train["step_time_s"]["netaug"], 1e3, 1):>12}'
        f'{_fmt(train["step_time_s"]["plain"], 1e3, 1):>12}'
        f'{_fmt_ratio(train["step_time_ratio"]):>12}',
    ]
    if memory:
        labels = (('peak', 'peak RSS (MiB)'),
                  ('increase', 'RSS above the built model (MiB)'))
        if memory['kind'] == 'CUDA allocated':
            labels = (('peak', 'CUDA max allocated (MiB)'),
                      ('increase', 'CUDA above the built model (MiB)'))
        for key, label in labels:
            rows.append(
                f'{"  " + label:<38}'
                f'{_fmt(memory["netaug"][key + "_mib"], 1, 1):>12}'
                f'{_fmt(memory["plain"][key + "_mib"], 1, 1):>12}'
                f'{_fmt_ratio(memory[key + "_ratio"]):>12}')
    else:
        rows.append('  memory: not measured (--memory-steps 0)')
    size = 'x'.join(map(str, infer['input_size']))
    status = {True: 'OK', False: 'MISMATCH'}
    rows += [
        '-' * width,
        f'{"inference @" + size + ", batch 1":<38}{"exported":>12}'
        f'{"plain":>12}{"check":>12}',
        f'{"  params (M)":<38}{_fmt(infer["exported"]["params"], 1e-6, 4):>12}'
        f'{_fmt(infer["plain"]["params"], 1e-6, 4):>12}'
        f'{status[infer["params_equal"]]:>12}',
        f'{"  FLOPs (G)":<38}{_fmt(infer["exported"]["flops"], 1e-9, 4):>12}'
        f'{_fmt(infer["plain"]["flops"], 1e-9, 4):>12}'
        f'{status[infer["flops_equal"]]:>12}',
        f'{"  strict state-dict load":<38}{"":>12}{"":>12}'
        f'{status[infer["strict_load"]]:>12}',
        f'{"  _forward latency, median (ms)":<38}'
        f'{_fmt(infer["latency_s"]["exported"], 1e3, 2):>12}'
        f'{_fmt(infer["latency_s"]["plain"], 1e3, 2):>12}'
        f'{_fmt_ratio(infer["latency_ratio"]):>12}',
        f'{"  supernet tiny mode latency (ms)":<38}'
        f'{_fmt(infer["latency_s"]["supernet_tiny"], 1e3, 2):>12}',
        f'{"  max |exported - supernet tiny|":<38}'
        f'{infer["max_abs_diff"]:>12.3g}{"":>12}'
        f'{status[infer["max_abs_diff"] == 0]:>12}',
        '-' * width,
    ]
    ratios = result['ratios']
    mem = ('' if ratios['train_memory_peak'] is None else
           f', train memory peak {_fmt_ratio(ratios["train_memory_peak"])}'
           f' (increase {_fmt_ratio(ratios["train_memory_increase"])})')
    rows.append(
        f'ratios NetAug/plain: train step time '
        f'{_fmt_ratio(ratios["train_step_time"])}{mem}, inference latency '
        f'{_fmt_ratio(ratios["inference_latency"])}; params/FLOPs '
        f'{"OK" if result["parity_ok"] else "MISMATCH"}, max abs diff '
        f'{infer["max_abs_diff"]:.3g}')
    return '\n'.join(rows)


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
    if device == 'cuda':
        torch.backends.cudnn.benchmark = cfgs['netaug'].get(
            'env_cfg', {}).get('cudnn_benchmark', False)
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
        memory = dict(kind='CUDA allocated' if cuda else 'peak RSS',
                      steps=memory_steps)
        for role in ROLES:
            r = raw[role]
            peak = r['peak_cuda_mib'] if cuda else r['peak_rss_mib']
            before = r['cuda_before_mib'] if cuda else r['rss_before_mib']
            memory[role] = dict(
                r, peak_mib=peak,
                increase_mib=None if before is None else peak - before)
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


def _finite(value: float) -> bool:
    return value == value and abs(value) != float('inf')


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
