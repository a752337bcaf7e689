"""Where the anchor-head KD losses' divisor comes from, on real training
batches: the teacher's expected number of object anchors (the sum of its
object probability ``p`` over every anchor), split into the anchors it is
sure of (``p >= conf_threshold``, whose boxes are distilled) and the
background (``p < BACKGROUND``, 0.1). A diagnostic of the KD loss scale,
for choosing ``distill.cls_weight`` and ``bbox_weight`` (on a held-out
split).

    python tools/misc/kd_divisor.py configs/kd_ssdlite_mbv2_cards_224.py
        [--batches 3] [--batch-size 8] [--seed 0] [--threads 1]
        [--cfg-options KEY=VALUE ...]

The config is a KD or NetAug + KD config of an anchor head whose KD losses
are divided by that number (SSDLite's; YOLOv3's are summed over the batch,
and such a config is refused); its teacher checkpoint must exist. Only the
teacher is built.
"""
import argparse

import torch
from mmengine.runner import set_random_seed
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules

from mmdet_netaug.apis.benchmark import prefetch_batches
from mmdet_netaug.models.distillation import (anchor_kd_divisor,
                                              build_teacher,
                                              check_divided_kd_head,
                                              distill_options,
                                              teacher_model_config)
from mmdet_netaug.utils.cli import CfgOptionsAction, load_cli_config

#: Anchors under this teacher confidence count as background.
BACKGROUND = 0.1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a KD or NetAug + KD config')
    parser.add_argument('--batches', type=int, default=3)
    parser.add_argument('--batch-size', type=int, default=None,
                        help='default: the config\'s')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the data order and augmentation')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        metavar='KEY=VALUE',
                        help='config overrides, as tools/train.py takes them')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = load_cli_config(args.config, args.cfg_options)
    if args.batch_size is not None:
        cfg.train_dataloader.batch_size = args.batch_size
    try:  # a bad entry or checkpoint: its message (field, file), no trace
        options = distill_options(cfg.model.get('distill'), args.config)
        if options is None:
            parser.error(f'{args.config} has no model.distill entry (a '
                         'teacher)')
        head = teacher_model_config(options['teacher_config'])['bbox_head']
        check_divided_kd_head(MODELS.get(head['type']))  # before loading
        teacher = build_teacher(options['teacher_config'],
                                options['teacher_checkpoint'])
    except ValueError as error:
        raise SystemExit(f'Error: {error}') from None
    threshold = options['conf_threshold']
    print(f'teacher {options["teacher_checkpoint"]}; conf_threshold '
          f'{threshold}')
    set_random_seed(args.seed)  # the augmentation, also without workers
    for i, batch in enumerate(
            prefetch_batches(cfg, args.batches, args.seed)):
        with torch.no_grad():
            inputs = teacher.data_preprocessor(batch, True)['inputs']
            split = anchor_kd_divisor(
                teacher.bbox_head,
                teacher.bbox_head(teacher.extract_feat(inputs)), threshold,
                BACKGROUND)
        boxes = sum(len(s.gt_instances) for s in batch['data_samples'])
        share = split['confident'] / max(split['divisor'], 1.0)
        print(f'batch {i}: {len(batch["data_samples"])} images, {boxes} '
              f'boxes, {split["anchors"]} anchors; divisor '
              f'{split["divisor"]:.1f} = {split["confident"]:.1f} from '
              f'{split["confident_anchors"]} anchors with p >= {threshold} '
              f'({share:.0%}) + {split["background"]:.1f} from '
              f'{split["background_anchors"]} anchors with p < '
              f'{BACKGROUND} + the rest')


if __name__ == '__main__':
    main()
