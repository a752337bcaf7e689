"""What ``tools/analysis_tools/benchmark_netaug.py`` measures, NetAug against
its plain baseline on the same real batches: training step time (alternated
steps), peak training memory (a child process per model: ``python -m
mmdet_netaug.apis.benchmark SPEC``), and the inference parity of the
exported tiny model; and the table that reports them."""
import contextlib
import logging
import os
import os.path as osp
import re
import resource
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.fileio import load
from mmengine.logging import MMLogger, print_log
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner, set_random_seed

from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from ..engine.hooks.netaug_hook import sample_widths
from ..models import NetAugDetector
from ..utils.config import ConfigError, load_config
from ..utils.records import write_json
from .export import (build_netaug_model, max_output_difference,
                     model_complexity)

ROLES = ('netaug', 'plain')


# -- building --------------------------------------------------------------
def load_configs(netaug_config: str, plain_config: str,
                 cfg_options: Optional[dict] = None,
                 batch_size: Optional[int] = None,
                 netaug_options: Optional[dict] = None) -> Dict[str, Config]:
    """Both configs with the same overrides applied (and
    ``netaug_options`` to the NetAug config alone)."""
    cfgs = {}
    for role, path in zip(ROLES, (netaug_config, plain_config)):
        cfg = load_config(path, cfg_options,
                          netaug_options if role == 'netaug' else None)
        if batch_size is not None:
            cfg.train_dataloader.batch_size = batch_size
        for where in _drop_batch_augments(cfg.model, 'model'):
            print_log(f'{path}: {where} (YOLOX\'s BatchSyncRandomResize) '
                      'left out of the benchmark: it would give each model '
                      'batches of its own random size and rescale the '
                      'reused batches\' boxes in place; every step runs at '
                      'the pipeline\'s own size', logger='current',
                      level=logging.WARNING)
        cfgs[role] = cfg
    return cfgs


def _drop_batch_augments(cfg, key: str) -> List[str]:
    """Set every data preprocessor's ``batch_augments`` in a model config
    to None (in place); the keys where there were some."""
    found = []
    if isinstance(cfg, dict):
        if cfg.get('batch_augments'):
            cfg['batch_augments'] = None
            found.append(f'{key}.batch_augments')
        for name, value in cfg.items():
            found += _drop_batch_augments(value, f'{key}.{name}')
    return found


def build_model(cfg: Config, role: str, checkpoint: Optional[str] = None
                ) -> torch.nn.Module:
    """The NetAug model (checkpoint, or the config's own initialisation:
    random, or a ``Pretrained`` backbone, which may download) or the plain
    baseline (the config's initialisation). A config's distillation
    teacher is built with either: its forward pass is part of the training
    step."""
    if role == 'netaug':
        model = build_netaug_model(cfg, checkpoint, with_teacher=True,
                                   plain_checkpoint=True)
        if checkpoint is None:
            _init_weights_quietly(model)
    else:
        model = MODELS.build(cfg.model)
        if isinstance(model, NetAugDetector):
            raise TypeError('the plain config builds a NetAugDetector: pass '
                            'the plain baseline config second')
        _init_weights_quietly(model)
    return model


def _init_weights_quietly(model: torch.nn.Module) -> None:
    """``init_weights`` without the line per parameter that mmengine logs
    at INFO where no runner's log file takes them (a few hundred per
    model, which buried the benchmarks' results in their logs)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


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


def add_step_arguments(parser, variant: str) -> None:
    """The options of the scripts that time training steps of several
    variants of both models on the same batches
    (``tools/misc/channels_last_step.py``,
    ``tools/analysis_tools/benchmark_batched_targets.py``): the two configs,
    batch size, measured steps per ``variant`` and threads."""
    parser.add_argument('configs', nargs='*', default=[
        'configs/netaug_ssdlite_mbv2_cards_224.py',
        'configs/ssdlite_mbv2_w035_cards_224.py'])
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--steps', type=int, default=13,
                        help=f'measured steps per {variant}, after 3 warm-up')
    parser.add_argument('--threads', type=int, default=1)


def prepare_step_benchmark(parser, args):
    """For :func:`add_step_arguments`' options: check that two configs were
    given, set the threads, register mmdet's modules, and return both
    configs (:func:`load_configs`) and ``steps + 3`` prefetched batches."""
    if len(args.configs) != 2:
        parser.error('give NETAUG_CONFIG PLAIN_CONFIG, or neither')
    for name in ('batch_size', 'steps', 'threads'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    torch.set_num_threads(args.threads)
    register_all_modules()
    try:
        cfgs = load_configs(*args.configs, None, args.batch_size)
    except ConfigError as error:
        parser.error(str(error))
    return cfgs, prefetch_batches(cfgs['netaug'], args.steps + 3, 0)


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
    spec = load(spec_file)
    register_all_modules()
    torch.set_num_threads(spec['num_threads'])
    set_random_seed(spec['seed'])
    cfgs = load_configs(spec['netaug_config'], spec['plain_config'],
                        spec['cfg_options'], spec['batch_size'],
                        spec['netaug_options'])
    role, device = spec['role'], spec['device']
    apply_cudnn_benchmark(cfgs['netaug'], device)  # as the parent does
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
    write_json(spec['result'], result)


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
            result=osp.join(tmp_dir, f'memory_{role}_result.json'))
        spec_file = osp.join(tmp_dir, f'memory_{role}_spec.json')
        write_json(spec_file, spec)
        proc = subprocess.run(
            [sys.executable, '-m', 'mmdet_netaug.apis.benchmark', spec_file],
            capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f'memory measurement of the {role} model '
                               f'failed:\n{proc.stderr[-3000:]}')
        results[role] = load(spec['result'])
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
    max_abs_diff = max_output_difference(exported, netaug, images)

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
                  width_aug: bool, roles: Optional[dict] = None) -> dict:
    """Alternate the models step by step on the same batches (the order
    swapped every step). ``roles`` maps each key of ``models`` to how it
    trains ('netaug' or 'plain'; default: the key itself)."""
    keys = list(models)
    roles = roles or {key: key for key in keys}
    times = {key: [] for key in keys}
    losses = {key: [] for key in keys}
    for step in range(warmup + steps):
        batch = batches[step % len(batches)]
        for key in (keys if step % 2 == 0 else keys[::-1]):
            _sync(device)
            start = time.perf_counter()
            loss = train_step(models[key], optim_wrappers[key], batch,
                              roles[key], step, seed, width_aug)
            _sync(device)
            elapsed = time.perf_counter() - start
            losses[key].append(float(loss.detach()))
            if step >= warmup:
                times[key].append(elapsed)
    medians = {key: _median(times[key]) for key in keys}
    return dict(
        step_time_s=medians,
        step_times_s=times,
        losses=losses,
        step_time_ratio=_ratio(medians.get('netaug'), medians.get('plain')))


@contextlib.contextmanager
def deterministic_kernels(device: str):
    """Within the block, deterministic kernels only
    (``torch.use_deterministic_algorithms``, warning where an operator has
    none; cuDNN deterministic, without benchmark mode); the previous
    settings are restored after it. On CUDA, scatter-adds and atomics make
    two runs of the same steps differ in the last bits otherwise, so a
    comparison of losses there needs it. cuBLAS is deterministic only with
    ``CUBLAS_WORKSPACE_CONFIG`` set before its first use (e.g. ':4096:8',
    at the start of a script; it then holds for the whole process): on
    CUDA without it this raises. Set after cuBLAS started, it has no
    effect, which this cannot detect."""
    if (str(device).startswith('cuda')
            and 'CUBLAS_WORKSPACE_CONFIG' not in os.environ):
        raise RuntimeError(
            'deterministic_kernels on CUDA: set CUBLAS_WORKSPACE_CONFIG '
            "(e.g. ':4096:8') before the first CUDA call; cuBLAS is not "
            'deterministic without it')
    cudnn = torch.backends.cudnn
    saved = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled(),
             cudnn.deterministic, cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        cudnn.deterministic, cudnn.benchmark = saved[2], saved[3]


def apply_cudnn_benchmark(netaug_cfg: Config, device: str) -> None:
    """On CUDA, cuDNN's benchmark mode as NetAugHook sets it for training
    (off by default: sampled widths would be re-timed shape by shape), for
    both models."""
    if device == 'cuda':
        from ..engine.hooks.netaug_hook import netaug_cudnn_benchmark
        torch.backends.cudnn.benchmark = netaug_cudnn_benchmark(netaug_cfg)


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
        elif memory['kind'] == 'process peak RSS':  # no reset: build too
            labels = (('peak', 'peak RSS, with the build (MiB)'),
                      ('increase', 'RSS above the built model (MiB)'))
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


def _finite(value: float) -> bool:
    return value == value and abs(value) != float('inf')


if __name__ == '__main__':  # the memory measurement's child process
    memory_worker(sys.argv[1])
