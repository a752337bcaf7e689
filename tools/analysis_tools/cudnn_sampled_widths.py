"""Does ``torch.backends.cudnn.benchmark`` slow NetAug down on CUDA?

NetAug draws a new sub-network every step, so the convolutions see new
channel counts step after step; cuDNN's benchmark mode times every algorithm
for each new shape before it runs it. This script measures that alone, with
plain torch (no mmcv, so it runs on a bare CUDA host): a MobileNetV2-like
stack of convolutions (width 0.35, batch 24, 320x320), trained a step at a
time with channel widths sampled per step (as NetAug does while widths are
augmented) or fixed (as a plain model), with benchmark mode on and off, in
float32 and float16 autocast. Each setting runs in a fresh process (the
benchmark cache is per process) for at most ``--seconds``; the table gives
the steps done and the median time of the first and the last ten.

    python tools/analysis_tools/cudnn_sampled_widths.py [--steps 60]
        [--seconds 25] [--device cuda]
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
# factors NetAug widens them by (paper: up to 2.2x width, larger expands).
BLOCKS = [(8, 1, 1), (8, 6, 2), (8, 6, 1), (16, 6, 2), (16, 6, 1),
          (16, 6, 1), (24, 6, 2), (24, 6, 1), (24, 6, 1), (24, 6, 1),
          (32, 6, 1), (32, 6, 1), (32, 6, 1), (56, 6, 2), (56, 6, 1),
          (56, 6, 1), (112, 6, 1)]
WIDTHS = (1.0, 1.4, 1.8, 2.2)
EXPANDS = (1.0, 1.34, 1.67, 2.0)


def make_weights(device):
    """Weights of the widest network: slices of them are the sub-networks."""
    g = torch.Generator().manual_seed(0)
    stem = int(16 * max(WIDTHS))
    weights = [torch.randn(stem, 3, 3, 3, generator=g)]
    cin = stem
    for cout, expand, _ in BLOCKS:
        cout, hidden = int(cout * max(WIDTHS)), int(cin * expand * max(EXPANDS))
        weights += [torch.randn(hidden, cin, 1, 1, generator=g),
                    torch.randn(hidden, 1, 3, 3, generator=g),
                    torch.randn(cout, hidden, 1, 1, generator=g)]
        cin = cout
    return [(w * 0.1).to(device).requires_grad_() for w in weights]


def forward(weights, x, rng, sample):
    """One sub-network's forward: a random width per block when sampling."""
    pick = (lambda choices: rng.choice(choices)) if sample else (
        lambda choices: choices[0])
    cin = 16 if not sample else int(16 * pick(WIDTHS))
    x = F.relu6(F.conv2d(x, weights[0][:cin], stride=2, padding=1))
    for i, (cout, expand, stride) in enumerate(BLOCKS):
        pw, dw, proj = weights[1 + 3 * i:4 + 3 * i]
        hidden = int(cin * expand * pick(EXPANDS))
        cout = int(cout * pick(WIDTHS))
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
    return dict(setting, steps=len(times), total_s=sum(times),
                first10_ms=1e3 * statistics.median(times[:10]),
                last10_ms=1e3 * statistics.median(times[-10:]))


SETTINGS = [dict(sample=s, benchmark=b, fp16=h)
            for h in (False, True) for s in (True, False)
            for b in (True, False)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=60)
    parser.add_argument('--seconds', type=float, default=25)
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--one', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one), args.steps,
                                 args.seconds, args.device)))
        return
    print(f'device {args.device}: '
          f'{torch.cuda.get_device_name() if args.device == "cuda" else ""}'
          f' torch {torch.__version__} cudnn '
          f'{torch.backends.cudnn.version()}')
    print('widths   cudnn.benchmark  dtype     steps  total s  '
          'first-10 ms  last-10 ms')
    for setting in SETTINGS:
        out = subprocess.run(
            [sys.executable, __file__, '--one', json.dumps(setting),
             '--steps', str(args.steps), '--seconds', str(args.seconds),
             '--device', args.device],
            capture_output=True, text=True)
        if out.returncode:
            print(setting, 'failed:', out.stderr.strip().splitlines()[-1:])
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f'{"sampled" if r["sample"] else "fixed":8s} '
              f'{str(r["benchmark"]):16s} '
              f'{"float16" if r["fp16"] else "float32":8s} '
              f'{r["steps"]:6d} {r["total_s"]:8.1f} {r["first10_ms"]:12.1f} '
              f'{r["last10_ms"]:11.1f}', flush=True)


if __name__ == '__main__':
    main()
