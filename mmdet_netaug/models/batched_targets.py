"""Anchor targets for a whole batch at once.

mmdet's ``AnchorHead`` computes its training targets image by image: in
``get_anchors`` the anchors' valid flags, level by level; in
``get_targets`` an IoU matrix, ``MaxIoUAssigner``'s Python loop over the
ground-truth boxes (one device synchronisation per box on a GPU), a
``PseudoSampler`` result and a scatter of the targets. For a tiny detector
these many small operations are most of the loss path: about 24,000
operator calls for a batch of 24 cards images at 320x320
(docs/benchmarks.md, "Batched anchor targets").

:func:`batched_anchor_targets` computes the same targets for the batch at
once with padded tensors, and :func:`use_batched_targets` puts it in place
of a head's ``get_targets``, with a ``get_anchors`` that computes the valid
flags once per padded shape instead of once per image. ``BatchedTargetsHook``
(the config field ``batched_targets=True``) does that for a training.

:func:`batched_grid_targets` does the same for ``YOLOV3Head.get_targets``
with ``GridAssigner`` (YOLOv3's responsible flags stay per image, as its
``loss_by_feat`` computes them).

The results equal mmdet's bit for bit (``tests/test_models/
test_batched_targets.py``, on cards batches and on ground truth that
reaches every branch of the assigner), so a training is the same with and
without it. Heads, assigners and calls it does not cover (another assigner
or sampler, boxes of a box type, ignored boxes with ``ignore_iof_thr > 0``,
``unmap_outputs=False``, sampling results asked for) run mmdet's method.
"""
import types
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.dense_heads import AnchorHead, YOLOV3Head
from mmdet.models.task_modules import (BboxOverlaps2D, GridAssigner,
                                       MaxIoUAssigner, PseudoSampler)
from mmdet.structures.bbox import BaseBoxes


def _plain_iou(assigner) -> bool:
    calculator = getattr(assigner, 'iou_calculator', None)
    return (type(calculator) is BboxOverlaps2D and calculator.scale == 1.
            and calculator.dtype is None)


def _mmdets_methods(head, base) -> bool:
    cls = type(head)
    return (isinstance(head, base) and cls.get_targets is base.get_targets
            and cls._get_targets_single is base._get_targets_single
            and type(getattr(head, 'sampler', None)) is PseudoSampler)


def supports_batched_targets(head: nn.Module) -> bool:
    """Whether ``head`` computes its targets with mmdet's
    ``AnchorHead.get_targets`` and ``MaxIoUAssigner`` (plain 2-d IoU, no
    repeated-box permutation), or with ``YOLOV3Head.get_targets`` and
    ``GridAssigner``, and ``PseudoSampler``: what
    :func:`batched_anchor_targets` and :func:`batched_grid_targets`
    reproduce."""
    assigner = getattr(head, 'assigner', None)
    if _mmdets_methods(head, AnchorHead):
        return (type(assigner) is MaxIoUAssigner and _plain_iou(assigner)
                and assigner.perm_repeat_gt_cfg is None)
    if _mmdets_methods(head, YOLOV3Head):
        return type(assigner) is GridAssigner and _plain_iou(assigner)
    return False


def _shared_tensor_anchors(anchor_list, batch_gt_instances) -> bool:
    """Plain tensors (no box type), and the same anchor tensors for every
    image, as mmdet's heads make them; other callers get mmdet's per-image
    code."""
    if any(isinstance(a, BaseBoxes) for a in anchor_list[0]) or any(
            isinstance(g.bboxes, BaseBoxes) for g in batch_gt_instances):
        return False
    return all(a is b for anchors in anchor_list[1:]
               for a, b in zip(anchors, anchor_list[0]))


def _batch_supported(head, anchor_list, batch_gt_instances,
                     batch_gt_instances_ignore, unmap_outputs,
                     return_sampling_results) -> bool:
    assigner = head.assigner
    if return_sampling_results or not unmap_outputs:
        return False
    if not _shared_tensor_anchors(anchor_list, batch_gt_instances):
        return False
    if assigner.gpu_assign_thr > 0 and any(
            len(g) > assigner.gpu_assign_thr for g in batch_gt_instances):
        return False
    if assigner.ignore_iof_thr > 0 and batch_gt_instances_ignore and any(
            i is not None and i.bboxes.numel() > 0
            for i in batch_gt_instances_ignore):
        return False
    return True


def _inside_flags(head, flat_anchors, valid_flags, batch_img_metas):
    """``anchor_inside_flags`` for every image: (B, A) bool."""
    border = head.train_cfg['allowed_border']
    if border < 0:
        return valid_flags
    shapes = flat_anchors.new_tensor(
        [meta['img_shape'][:2] for meta in batch_img_metas])  # (B, 2): h, w
    h, w = shapes[:, 0:1], shapes[:, 1:2]
    return valid_flags & (flat_anchors[None, :, 0] >= -border) & (
        flat_anchors[None, :, 1] >= -border) & (
            flat_anchors[None, :, 2] < w + border) & (
                flat_anchors[None, :, 3] < h + border)


def _assign(assigner: MaxIoUAssigner, overlaps, real):
    """``MaxIoUAssigner.assign_wrt_overlaps`` for a batch.

    ``overlaps`` (B, G, A) holds -1 for padded boxes and for anchors outside
    the image, which mmdet leaves out of the assignment: no real IoU is
    below 0, so they never win a maximum that a real pair can win. ``real``
    (B, G) marks the real boxes (:func:`_pad_boxes`). Returns
    the (B, A) assigned box indices: 0 background, -1 ignored, i + 1 box i.
    """
    max_overlaps, argmax_overlaps = overlaps.max(dim=1)  # per anchor
    gt_max_overlaps, gt_argmax_overlaps = overlaps.max(dim=2)  # per box
    assigned = torch.full_like(argmax_overlaps, -1)
    neg_thr = assigner.neg_iou_thr
    if isinstance(neg_thr, float):
        assigned[(max_overlaps >= 0) & (max_overlaps < neg_thr)] = 0
    elif isinstance(neg_thr, tuple):
        assigned[(max_overlaps >= neg_thr[0])
                 & (max_overlaps < neg_thr[1])] = 0
    pos = max_overlaps >= assigner.pos_iou_thr
    assigned[pos] = argmax_overlaps[pos] + 1
    if assigner.match_low_quality:
        # mmdet loops over the boxes in order, so where several boxes claim
        # an anchor the last one wins: the largest index, here.
        claim = real & (gt_max_overlaps >= assigner.min_pos_iou)
        index = torch.arange(1, overlaps.size(1) + 1, device=overlaps.device)
        index = index[None].expand_as(claim) * claim
        if assigner.gt_max_assign_all:
            winner = ((overlaps == gt_max_overlaps[..., None])
                      * index[..., None]).amax(dim=1)
        else:
            winner = torch.zeros_like(assigned).scatter_reduce_(
                1, gt_argmax_overlaps, index, reduce='amax')
        assigned = torch.where(winner > 0, winner, assigned)
    # mmdet sends every anchor of an image without boxes to the background.
    assigned[~real.any(dim=1)] = 0
    return assigned


def batched_anchor_targets(head: AnchorHead,
                           anchor_list: List[List[torch.Tensor]],
                           valid_flag_list: List[List[torch.Tensor]],
                           batch_gt_instances,
                           batch_img_metas: List[dict],
                           batch_gt_instances_ignore=None,
                           unmap_outputs: bool = True,
                           return_sampling_results: bool = False
                           ) -> Optional[tuple]:
    """``AnchorHead.get_targets`` for a batch at once, for a head of which
    :func:`supports_batched_targets` is true.

    Returns what mmdet's method returns (labels, label weights, box targets
    and box weights per level, each (B, A_level, ...), and ``avg_factor``),
    or None where the call is outside what this reproduces (see the module
    docstring); the caller then runs mmdet's method.
    """
    if not _batch_supported(head, anchor_list, batch_gt_instances,
                            batch_gt_instances_ignore, unmap_outputs,
                            return_sampling_results):
        return None
    num_imgs = len(batch_img_metas)
    level_sizes = [a.size(0) for a in anchor_list[0]]
    flat_anchors = torch.cat(anchor_list[0])  # (A, 4), shared
    valid = torch.stack([torch.cat(v) for v in valid_flag_list])  # (B, A)
    inside = _inside_flags(head, flat_anchors, valid, batch_img_metas)
    if not inside.any(dim=1).all():
        return None  # mmdet's method raises its error for this image
    device = flat_anchors.device
    num_anchors = flat_anchors.size(0)
    padded, padded_labels, real = _pad_boxes(batch_gt_instances, device,
                                             flat_anchors.dtype)
    overlaps = head.assigner.iou_calculator(
        padded, flat_anchors[None].expand(num_imgs, -1, -1))
    overlaps = overlaps.masked_fill(~(real[:, :, None] & inside[:, None]), -1)
    assigned = _assign(head.assigner, overlaps, real)
    assigned[~inside] = -1  # mmdet's unmap leaves these out: weight 0

    pos = assigned > 0
    neg = assigned == 0
    labels = torch.full((num_imgs, num_anchors), head.num_classes,
                        dtype=torch.long, device=device)
    label_weights = flat_anchors.new_zeros(num_imgs, num_anchors,
                                           dtype=torch.float)
    target_dim = 4 if head.reg_decoded_bbox else head.bbox_coder.encode_size
    bbox_targets = flat_anchors.new_zeros(num_imgs, num_anchors, target_dim)
    bbox_weights = flat_anchors.new_zeros(num_imgs, num_anchors, target_dim)
    img_idx, anchor_idx = pos.nonzero(as_tuple=True)
    gt_idx = assigned[img_idx, anchor_idx] - 1
    pos_gt_bboxes = padded[img_idx, gt_idx]
    if head.reg_decoded_bbox:
        pos_targets = pos_gt_bboxes
    else:  # the coder works row by row, so one call serves every image
        pos_targets = head.bbox_coder.encode(flat_anchors[anchor_idx],
                                             pos_gt_bboxes)
    bbox_targets[img_idx, anchor_idx] = pos_targets
    bbox_weights[img_idx, anchor_idx] = 1.0
    labels[img_idx, anchor_idx] = padded_labels[img_idx, gt_idx]
    pos_weight = head.train_cfg['pos_weight']
    label_weights[neg] = 1.0
    label_weights[pos] = 1.0 if pos_weight <= 0 else pos_weight
    # PseudoSampler: avg_factor is the positives' count, at least 1 an image.
    avg_factor = int(pos.sum(dim=1).clamp(min=1).sum())

    def levels(target):
        return list(target.split(level_sizes, dim=1))

    return (levels(labels), levels(label_weights), levels(bbox_targets),
            levels(bbox_weights), avg_factor)


def _batched_get_targets(self, anchor_list, valid_flag_list,
                         batch_gt_instances, batch_img_metas,
                         batch_gt_instances_ignore=None, unmap_outputs=True,
                         return_sampling_results=False):
    result = batched_anchor_targets(self, anchor_list, valid_flag_list,
                                    batch_gt_instances, batch_img_metas,
                                    batch_gt_instances_ignore, unmap_outputs,
                                    return_sampling_results)
    if result is None:
        result = type(self).get_targets(
            self, anchor_list, valid_flag_list, batch_gt_instances,
            batch_img_metas, batch_gt_instances_ignore, unmap_outputs,
            return_sampling_results)
    return result


def _pad_boxes(batch_gt_instances, device, dtype):
    """The boxes (B, G, 4, zeros past an image's own) and labels (B, G) of a
    batch, G the most boxes of an image (at least 1), and which of the G are
    real boxes (B, G)."""
    counts = [len(g) for g in batch_gt_instances]
    num_gts = torch.tensor(counts, device=device)
    boxes = torch.zeros(len(counts), max(1, max(counts)), 4, dtype=dtype,
                        device=device)
    labels = torch.zeros(boxes.shape[:2], dtype=torch.long, device=device)
    if sum(counts):  # one copy for the batch, not one per image
        image = torch.repeat_interleave(
            torch.arange(len(counts), device=device), num_gts,
            output_size=sum(counts))
        first = torch.cumsum(num_gts, 0) - num_gts
        slot = torch.arange(len(image), device=device) - first[image]
        boxes[image, slot] = torch.cat(
            [g.bboxes for g in batch_gt_instances]).to(dtype)
        labels[image, slot] = torch.cat(
            [g.labels for g in batch_gt_instances])
    real = torch.arange(boxes.size(1), device=device)[None] < num_gts[:, None]
    return boxes, labels, real


def _assign_grid(assigner: GridAssigner, overlaps, responsible, real):
    """``GridAssigner.assign`` for a batch: ``overlaps`` (B, G, A) with -1
    for padded boxes, ``responsible`` (B, A) bool, ``real`` (B, G) the real
    boxes."""
    max_overlaps = overlaps.max(dim=1)[0]
    assigned = torch.full(max_overlaps.shape, -1, dtype=torch.long,
                          device=overlaps.device)
    neg_thr = assigner.neg_iou_thr
    if isinstance(neg_thr, float):
        assigned[(max_overlaps >= 0) & (max_overlaps <= neg_thr)] = 0
    elif isinstance(neg_thr, (tuple, list)):
        assigned[(max_overlaps > neg_thr[0])
                 & (max_overlaps <= neg_thr[1])] = 0
    overlaps = overlaps.masked_fill(~responsible[:, None], -1.)
    max_overlaps, argmax_overlaps = overlaps.max(dim=1)
    gt_max_overlaps, gt_argmax_overlaps = overlaps.max(dim=2)
    pos = (max_overlaps > assigner.pos_iou_thr) & responsible
    assigned[pos] = argmax_overlaps[pos] + 1
    claim = real & (gt_max_overlaps > assigner.min_pos_iou)
    index = torch.arange(1, overlaps.size(1) + 1, device=overlaps.device)
    index = index[None].expand_as(claim) * claim  # the last box wins
    if assigner.gt_max_assign_all:
        winner = (((overlaps == gt_max_overlaps[..., None])
                   & responsible[:, None]) * index[..., None]).amax(dim=1)
    else:
        index = index * responsible.gather(1, gt_argmax_overlaps)
        winner = torch.zeros_like(assigned).scatter_reduce_(
            1, gt_argmax_overlaps, index, reduce='amax')
    assigned = torch.where(winner > 0, winner, assigned)
    assigned[~real.any(dim=1)] = 0
    return assigned


def batched_grid_targets(head: YOLOV3Head, anchor_list, responsible_flag_list,
                         batch_gt_instances) -> Optional[tuple]:
    """``YOLOV3Head.get_targets`` for a batch at once, for a head of which
    :func:`supports_batched_targets` is true: the target and negative maps
    per level, (B, A_level, 5 + classes) and (B, A_level); None where the
    call is outside what this reproduces (the caller then runs mmdet's)."""
    if not _shared_tensor_anchors(anchor_list, batch_gt_instances):
        return None
    level_sizes = [a.size(0) for a in anchor_list[0]]
    anchors = torch.cat(anchor_list[0])
    device, num_imgs = anchors.device, len(batch_gt_instances)
    strides = torch.cat([
        torch.tensor(stride, device=device).repeat(size)
        for stride, size in zip(head.featmap_strides, level_sizes)])
    responsible = torch.stack([torch.cat(f) for f in responsible_flag_list
                               ]).bool()
    boxes, labels, real = _pad_boxes(batch_gt_instances, device,
                                     anchors.dtype)
    overlaps = head.assigner.iou_calculator(
        boxes, anchors[None].expand(num_imgs, -1, -1))
    overlaps = overlaps.masked_fill(~real[..., None], -1)
    assigned = _assign_grid(head.assigner, overlaps, responsible, real)

    target_map = anchors.new_zeros(num_imgs, anchors.size(0),
                                   head.num_attrib)
    img_idx, anchor_idx = (assigned > 0).nonzero(as_tuple=True)
    gt_idx = assigned[img_idx, anchor_idx] - 1
    target_map[img_idx, anchor_idx, :4] = head.bbox_coder.encode(
        anchors[anchor_idx], boxes[img_idx, gt_idx], strides[anchor_idx])
    target_map[img_idx, anchor_idx, 4] = 1
    one_hot = F.one_hot(labels[img_idx, gt_idx],
                        num_classes=head.num_classes).float()
    if head.one_hot_smoother != 0:
        one_hot = one_hot * (1 - head.one_hot_smoother) + \
            head.one_hot_smoother / head.num_classes
    target_map[img_idx, anchor_idx, 5:] = one_hot
    neg_map = (assigned == 0).to(torch.uint8)
    return (list(target_map.split(level_sizes, dim=1)),
            list(neg_map.split(level_sizes, dim=1)))


def _batched_grid_get_targets(self, anchor_list, responsible_flag_list,
                              batch_gt_instances):
    result = batched_grid_targets(self, anchor_list, responsible_flag_list,
                                  batch_gt_instances)
    if result is None:
        result = type(self).get_targets(self, anchor_list,
                                        responsible_flag_list,
                                        batch_gt_instances)
    return result


def _shared_get_anchors(self, featmap_sizes, batch_img_metas, device='cuda'):
    """``AnchorHead.get_anchors`` with the valid flags computed once per
    distinct padded shape (mmdet computes them image by image; in a batch
    of one input size they are all the same)."""
    anchors = self.prior_generator.grid_priors(featmap_sizes, device=device)
    flags = {}
    valid_flag_list = []
    for meta in batch_img_metas:
        key = tuple(meta['pad_shape'])
        if key not in flags:
            flags[key] = self.prior_generator.valid_flags(
                featmap_sizes, meta['pad_shape'], device)
        valid_flag_list.append(flags[key])
    return [anchors for _ in batch_img_metas], valid_flag_list


def use_batched_targets(head: nn.Module) -> bool:
    """Give ``head`` the batched ``get_targets`` (and ``get_anchors`` with
    shared valid flags) where :func:`supports_batched_targets`; returns
    whether it did. Bound methods in the instance's dict, so that a deep
    copy of the model binds its own copy of the head."""
    if not supports_batched_targets(head):
        return False
    if isinstance(head, YOLOV3Head):
        head.get_targets = types.MethodType(_batched_grid_get_targets, head)
        return True
    head.get_targets = types.MethodType(_batched_get_targets, head)
    if type(head).get_anchors is AnchorHead.get_anchors:
        head.get_anchors = types.MethodType(_shared_get_anchors, head)
    return True
