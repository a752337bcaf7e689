"""Does ``torch.backends.cudnn.benchmark`` slow NetAug down on CUDA?

NetAug draws a new sub-network every step, so the convolutions see new
channel counts step after step; cuDNN's benchmark mode times every algorithm
for each new shape before it runs it. This script measures that alone, with
plain torch (no mmcv, so it runs on a bare CUDA host): a MobileNetV2-like
stack of convolutions (width 0.35, batch 24, 320x320), forward and backward
a step at a time (gradients accumulate; no optimiser step) with channel
widths sampled per step (as NetAug does while widths are
augmented) or fixed (as a plain model), with benchmark mode on and off, in
float32 and float16 autocast. Widths are those of NetAug's default width
space (width choices 1.0, 1.8, 2.6 between blocks, expand choices 1.0, 1.6,
2.2, 2.8 inside them, rounded to multiples of ``--divisor``, 8, as
``WidthSpace`` does; ``--divisor 0`` truncates them, unaligned). The first
table in docs/benchmarks.md ("CUDA: the first run") came from this script's
first version (commit 2da60f3), whose widths were unaligned products of
other factors. Each setting runs in a fresh process (the benchmark
cache is per process) and stops after ``--steps`` steps or after the step
during which ``--seconds`` passed; the table gives the steps done and the
median time of the first and the last ten (n/a under 20 steps). With
``--device cpu`` only the float32 rows without benchmark mode run (the
other settings are CUDA's).

    python tools/analysis_tools/cudnn_sampled_widths.py [--steps 60]
        [--seconds 25] [--divisor 8] [--device cuda]
"""
import argparse
import json
import random
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

# MobileNetV2 x0.35 (out channels, expand ratio, stride) per block, and the
# factors NetAug widens them by (the project's default width space).
BLOCKS = [(8, 1, 1), (8, 6, 2), (8, 6, 1), (16, 6, 2), (16, 6, 1),
          (16, 6, 1), (24, 6, 2), (24, 6, 1), (24, 6, 1), (24, 6, 1),
          (32, 6, 1), (32, 6, 1), (32, 6, 1), (56, 6, 2), (56, 6, 1),
          (56, 6, 1), (112, 6, 1)]
WIDTHS = (1.0, 1.8, 2.6)
EXPANDS = (1.0, 1.6, 2.2, 2.8)
DIVISOR = 8


def widen(base: int, factor: float) -> int:
    """A widened channel count: rounded to a multiple of DIVISOR and never
    below the base, as WidthSpace.widths does; DIVISOR 0 truncates."""
    if factor == 1.0:
        return base
    if not DIVISOR:
        return int(base * factor)
    return max(int(base * factor / DIVISOR + 0.5) * DIVISOR, base)


def make_weights(device):
    """Weights of the widest network: slices of them are the sub-networks."""
    g = torch.Generator().manual_seed(0)
    stem = widen(16, max(WIDTHS))
    weights = [torch.randn(stem, 3, 3, 3, generator=g)]
    cin = stem
    for cout, expand, _ in BLOCKS:
        cout, hidden = widen(cout, max(WIDTHS)), widen(cin * expand,
                                                       max(EXPANDS))
        weights += [torch.randn(hidden, cin, 1, 1, generator=g),
                    torch.randn(hidden, 1, 3, 3, generator=g),
                    torch.randn(cout, hidden, 1, 1, generator=g)]
        cin = cout
    return [(w * 0.1).to(device).requires_grad_() for w in weights]


def forward(weights, x, rng, sample):
    """One sub-network's forward: a random width per block when sampling."""
    pick = (lambda choices: rng.choice(choices)) if sample else (
        lambda choices: choices[0])
    cin = widen(16, pick(WIDTHS))
    x = F.relu6(F.conv2d(x, weights[0][:cin], stride=2, padding=1))
    for i, (cout, expand, stride) in enumerate(BLOCKS):
        pw, dw, proj = weights[1 + 3 * i:4 + 3 * i]
        hidden = widen(cin * expand, pick(EXPANDS))
        cout = widen(cout, pick(WIDTHS))
        x = F.relu6(F.conv2d(x, pw[:hidden, :cin]))
        x = F.relu6(F.conv2d(x, dw[:hidden], stride=stride, padding=1,
                             groups=hidden))
        x = F.conv2d(x, proj[:cout, :hidden])
        cin = cout
    return x.float().pow(2).mean()


def run_one(setting: dict, steps: int, seconds: float, device: str) -> dict:
    torch.backends.cudnn.benchmark = setting['benchmark']
    rng = random.Random(0)
    weights = make_weights(device)
    x = torch.randn(24, 3, 320, 320, device=device)
    times, start = [], time.perf_counter()
    for _ in range(steps):
        t0 = time.perf_counter()
        with torch.autocast(device, dtype=torch.float16,
                            enabled=setting['fp16'] and device == 'cuda'):
            loss = forward(weights, x, rng, setting['sample'])
        loss.backward()
        if device == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > seconds:
            break
    enough = len(times) >= 20
    return dict(setting, steps=len(times), total_s=sum(times),
                first10_ms=1e3 * statistics.median(times[:10])
                if enough else None,
                last10_ms=1e3 * statistics.median(times[-10:])
                if enough else None)


SETTINGS = [dict(sample=s, benchmark=b, fp16=h)
            for h in (False, True) for s in (True, False)
            for b in (True, False)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=60)
    parser.add_argument('--seconds', type=float, default=25)
    parser.add_argument('--divisor', type=int, default=8,
                        help='round widened channels to multiples of this '
                        '(0: truncate, unaligned)')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--one', help=argparse.SUPPRESS)
    args = parser.parse_args()
    global DIVISOR
    DIVISOR = args.divisor
    if args.one:
        print(json.dumps(run_one(json.loads(args.one), args.steps,
                                 args.seconds, args.device)))
        return
    print(f'divisor {args.divisor}, device {args.device}: '
          f'{torch.cuda.get_device_name() if args.device == "cuda" else ""}'
          f' torch {torch.__version__} cudnn '
          f'{torch.backends.cudnn.version()}')
    print('widths   cudnn.benchmark  dtype     steps  total s  '
          'first-10 ms  last-10 ms')
    settings = SETTINGS if args.device == 'cuda' else [
        s for s in SETTINGS if not s['fp16'] and not s['benchmark']]
    for setting in settings:
        try:
            out = subprocess.run(
                [sys.executable, __file__, '--one', json.dumps(setting),
                 '--steps', str(args.steps), '--seconds', str(args.seconds),
                 '--divisor', str(args.divisor), '--device', args.device],
                capture_output=True, text=True, timeout=args.seconds + 120)
        except subprocess.TimeoutExpired:
            print(setting, f'stopped: no step ended within '
                  f'{args.seconds + 120:.0f} s')
            continue
        if out.returncode:
            print(setting, 'failed:', out.stderr.strip().splitlines()[-1:])
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f'{"sampled" if r["sample"] else "fixed":8s} '
              f'{str(r["benchmark"]):16s} '
              f'{"float16" if r["fp16"] else "float32":8s} '
              f'{r["steps"]:6d} {r["total_s"]:8.1f} '
              f'{_ms(r["first10_ms"]):>12s} {_ms(r["last10_ms"]):>11s}',
              flush=True)


def _ms(value) -> str:
    return 'n/a' if value is None else f'{value:.1f}'


if __name__ == '__main__':
    main()
