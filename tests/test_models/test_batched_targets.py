"""Batched anchor targets equal mmdet's per-image targets bit for bit."""
import copy

import pytest
import torch
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import DATASETS, MODELS
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData

from mmdet_netaug.models.batched_targets import (batched_anchor_targets,
                                                 batched_grid_targets,
                                                 supports_batched_targets,
                                                 use_batched_targets)
from mmdet_netaug.models.target_reuse import (TargetCache,
                                              reusable_target_methods)
from conftest import (build_model, cards_runner_config, fake_batch,
                      load_config)


def _anchors(head, size, metas):
    strides = head.prior_generator.strides
    sizes = [torch.Size((-(-size // s[0]), -(-size // s[1])))
             for s in strides]
    return head.get_anchors(sizes, metas, device='cpu')


def assert_same_targets(head, anchors, valid, gts, metas, ignore=None):
    """mmdet's ``get_targets`` and the batched one, bit for bit."""
    ref = type(head).get_targets(head, anchors, valid, gts, metas, ignore)
    new = batched_anchor_targets(head, anchors, valid, gts, metas, ignore)
    assert new is not None
    assert new[4] == ref[4]  # avg_factor
    for ref_levels, new_levels in zip(ref[:4], new[:4]):
        assert len(ref_levels) == len(new_levels)
        for a, b in zip(ref_levels, new_levels):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert torch.equal(a, b)
    return ref


def hard_batch(size=224, num_classes=6):
    """Ground truth that reaches every branch of MaxIoUAssigner: an image
    without boxes, two identical boxes with different labels (both claim
    the same anchor; mmdet gives it to the later one), boxes sticking out
    of the image, a tiny box, many boxes."""
    g = torch.Generator().manual_seed(3)

    def boxes(n):
        xy = torch.rand(n, 2, generator=g) * size * 0.9 - size * 0.05
        wh = 2 + torch.rand(n, 2, generator=g) * size * 0.6
        return torch.cat([xy, xy + wh], 1)

    twin = torch.tensor([[40., 50., 120., 140.]])
    sets = [
        torch.zeros(0, 4),
        torch.cat([twin, twin, boxes(1)]),
        torch.cat([boxes(14), torch.tensor([[100., 100., 101.5, 101.]])]),
        boxes(1),
    ]
    gts = [InstanceData(bboxes=b, labels=torch.randint(
        0, num_classes, (len(b), ), generator=g)) for b in sets]
    gts[1].labels[:2] = torch.tensor([1, 4])
    metas = [dict(img_shape=(size, size), pad_shape=(size, size))
             for _ in sets]
    metas[3] = dict(img_shape=(size - 40, size - 24), pad_shape=(size, size))
    return gts, metas


def assert_same_losses_when_batched(model, images, samples):
    """The model's losses before and after :func:`use_batched_targets`,
    bit for bit."""
    ref = model.loss(images, samples)
    assert use_batched_targets(model.bbox_head)
    new = model.loss(images, samples)
    for key in ref:
        for a, b in zip(ref[key], new[key]):
            assert torch.equal(a, b)


@pytest.fixture(scope='module')
def ssd_head():
    model = build_model('ssdlite_mbv2_w035_cards_224.py')
    return model.bbox_head


@pytest.mark.parametrize('change', [
    {},
    dict(gt_max_assign_all=True),
    dict(min_pos_iou=0.3),
    dict(match_low_quality=False),
    dict(neg_iou_thr=(0.1, 0.4), pos_iou_thr=0.6),
    dict(allowed_border=0),
    dict(pos_weight=2.0),
    dict(reg_decoded_bbox=True),
])
def test_equal_to_mmdet_on_every_assignment_branch(ssd_head, change):
    head = copy.deepcopy(ssd_head)
    assert supports_batched_targets(head)
    for key, value in change.items():
        if key in ('allowed_border', 'pos_weight'):
            head.train_cfg[key] = value
        elif key == 'reg_decoded_bbox':
            head.reg_decoded_bbox = value
        else:
            setattr(head.assigner, key, value)
    gts, metas = hard_batch()
    anchors, valid = _anchors(head, 224, metas)
    ref = assert_same_targets(head, anchors, valid, gts, metas)
    labels = torch.cat(ref[0], 1)
    if not change:  # the twin boxes' anchor went to the later one (label 4)
        assert (labels[1] == 4).any()
    assert (labels[0] == head.num_classes).all()


def test_equal_to_mmdet_on_cards_batches_and_a_retinanet_head(
        cards_coco):
    cfg = load_config('ssdlite_mbv2_w035_cards_224.py')
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.dataset.data_root = str(cards_coco) + '/'
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    retina = MODELS.build(dict(
        type='RetinaHead', num_classes=6, in_channels=8, feat_channels=8,
        stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4,
                              scales_per_octave=3, ratios=[0.5, 1.0, 2.0],
                              strides=[8, 16, 32, 64, 128]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[.0] * 4,
                        target_stds=[1.0] * 4),
        train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5,
                                     neg_iou_thr=0.4, min_pos_iou=0,
                                     ignore_iof_thr=-1),
                       sampler=dict(type='PseudoSampler'),
                       allowed_border=-1, pos_weight=-1, debug=False)))
    assert supports_batched_targets(retina)
    for start in (0, 8):
        batch = pseudo_collate([dataset[i] for i in range(start, start + 8)])
        samples = model.data_preprocessor(batch, True)['data_samples']
        gts, _, metas = unpack_gt_instances(samples)
        for head in (model.bbox_head, retina):
            anchors, valid = _anchors(head, 224, metas)
            assert_same_targets(head, anchors, valid, gts, metas)


def test_patched_head_trains_identically_and_survives_target_reuse(
        ssd_head):
    head = copy.deepcopy(ssd_head)
    model = build_model('ssdlite_mbv2_w035_cards_224.py')
    images, samples = fake_batch(batch=3, size=224, seed=1)
    assert_same_losses_when_batched(model, images, samples)
    # NetAug's target cache patches the same method for a step and must
    # give the batched one back afterwards
    patched = model.bbox_head.get_targets
    cache = TargetCache(model.bbox_head,
                        reusable_target_methods(model.bbox_head))
    with cache.recording():
        model.loss(images, samples)
    assert model.bbox_head.get_targets == patched
    # a deep copy binds the method to its own head
    copied = copy.deepcopy(model)
    assert copied.bbox_head.get_targets.__self__ is copied.bbox_head
    # calls outside the batched path run mmdet's method
    gts, metas = hard_batch()
    anchors, valid = _anchors(head, 224, metas)
    with_results = model.bbox_head.get_targets(
        anchors, valid, gts, metas, return_sampling_results=True)
    assert len(with_results) == 6 and len(with_results[5]) == len(gts)


def test_heads_it_does_not_reproduce_keep_mmdets_method():
    model = build_model('ssdlite_mbv2_w035_cards_224.py')
    head = model.bbox_head
    from mmdet.registry import TASK_UTILS
    head.sampler = TASK_UTILS.build(dict(type='RandomSampler', num=16,
                                         pos_fraction=0.5))
    assert not supports_batched_targets(head)
    assert not use_batched_targets(head)
    assert 'get_targets' not in head.__dict__
    yolo = build_model('yolov3_mbv2_w035_cards_224.py').bbox_head
    assert supports_batched_targets(yolo)
    yolo.assigner = TASK_UTILS.build(dict(type='MaxIoUAssigner',
                                          pos_iou_thr=0.5, neg_iou_thr=0.5))
    assert not use_batched_targets(yolo)


def test_config_field_trains_with_the_same_losses(cards_coco, tmp_path):
    from mmdet_netaug.engine import CheckedRunner
    losses = {}
    for batched in (False, True):
        cfg = cards_runner_config(
            'netaug_ssdlite_mbv2_cards_224.py', cards_coco,
            tmp_path / str(batched), train_images=8, epochs=1,
            batch_size=4, batched_targets=batched)
        runner = CheckedRunner.from_cfg(cfg)
        runner.train()
        head = runner.model.detector.bbox_head
        assert ('get_targets' in head.__dict__) == batched
        values, _ = runner.message_hub.get_scalar('train/loss').data
        losses[batched] = list(values)
    assert len(losses[True]) == 2
    assert losses[True] == losses[False]


def test_bad_config_value_is_named(cards_coco, tmp_path):
    from mmdet_netaug.engine import CheckedRunner
    cfg = cards_runner_config('ssdlite_mbv2_w035_cards_224.py', cards_coco,
                              tmp_path, batched_targets='yes')
    with pytest.raises(ValueError, match='batched_targets'):
        CheckedRunner.from_cfg(cfg)


def test_shared_valid_flags_equal_mmdets_per_image_flags(ssd_head):
    head = copy.deepcopy(ssd_head)
    assert use_batched_targets(head)
    metas = [dict(pad_shape=(224, 224)), dict(pad_shape=(224, 192)),
             dict(pad_shape=(224, 224))]
    sizes = [torch.Size((-(-224 // s[1]), -(-224 // s[0])))
             for s in head.prior_generator.strides]
    anchors, flags = head.get_anchors(sizes, metas, device='cpu')
    ref_anchors, ref_flags = type(head).get_anchors(head, sizes, metas,
                                                     device='cpu')
    for a, b in zip(anchors + flags, ref_anchors + ref_flags):
        assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.cat(flags[1]).all()  # the narrower pad has its own


@pytest.fixture(scope='module')
def yolo_head():
    return build_model('yolov3_mbv2_w035_cards_224.py').bbox_head


def assert_same_grid_targets(head, gts, size=224):
    """mmdet's ``YOLOV3Head.get_targets`` and the batched one, bit for bit,
    with the anchors and responsible flags as its ``loss_by_feat`` makes
    them."""
    sizes = [torch.Size((size // s, size // s)) for s in head.featmap_strides]
    anchors = head.prior_generator.grid_priors(sizes, device='cpu')
    anchor_list = [anchors for _ in gts]
    flags = [head.responsible_flags(sizes, g.bboxes, 'cpu') for g in gts]
    ref = type(head).get_targets(head, anchor_list, flags, gts)
    new = batched_grid_targets(head, anchor_list, flags, gts)
    assert new is not None
    for ref_levels, new_levels in zip(ref, new):
        for a, b in zip(ref_levels, new_levels):
            assert a.dtype == b.dtype and a.shape == b.shape
            assert torch.equal(a, b)
    return ref


@pytest.mark.parametrize('change', [
    {},  # GridAssigner's gt_max_assign_all is True by default
    dict(gt_max_assign_all=False),
    dict(min_pos_iou=0.3),
    dict(neg_iou_thr=(0.1, 0.4), pos_iou_thr=0.6),
    dict(one_hot_smoother=0.1),
])
def test_yolov3_grid_targets_equal_mmdets(yolo_head, change):
    head = copy.deepcopy(yolo_head)
    for key, value in change.items():
        setattr(head if key == 'one_hot_smoother' else head.assigner, key,
                value)
    gts, _ = hard_batch()
    # boxes centred inside the image (responsible cells must exist)
    for gt in gts:
        gt.bboxes = gt.bboxes.clamp(0, 223)
    gts[2].bboxes[-1] = torch.tensor([100., 100., 101.5, 101.])
    gts[1].labels[2] = 0
    targets, negatives = assert_same_grid_targets(head, gts)
    objectness = torch.cat(targets, 1)[..., 4]
    assert (objectness[0] == 0).all() and (objectness[1:].sum(1) > 0).all()
    if not change or change == dict(gt_max_assign_all=False):
        # positives by IoU go to the first twin (label 1); the anchor both
        # claim as their best goes to the later one (label 4)
        classes = torch.cat(targets, 1)[1, :, 5:]
        assert (classes[:, 4] == 1).any() and (classes[:, 1] == 1).any()


def test_yolov3_grid_targets_on_cards_and_through_the_head(yolo_head,
                                                          cards_coco):
    cfg = load_config('yolov3_mbv2_w035_cards_224.py')
    cfg.train_dataloader.dataset.dataset.data_root = str(cards_coco) + '/'
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = MODELS.build(cfg.model)
    batch = pseudo_collate([dataset[i] for i in range(8)])
    samples = model.data_preprocessor(batch, True)['data_samples']
    gts, _, _ = unpack_gt_instances(samples)
    assert_same_grid_targets(yolo_head, gts)
    assert_same_losses_when_batched(model, *fake_batch(batch=3, size=224,
                                                        seed=2))
