"""Checkpoints of the other kind: a plain checkpoint initialises a NetAug
model's tiny slices, a NetAug checkpoint given to a plain config says to
export it, and a checkpoint that does not fit stops, naming the file."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger

from conftest import build_model, load_config
from mmdet_netaug.engine import CheckedRunner, CheckpointMismatchError

NETAUG = 'netaug_ssdlite_mbv2_cards.py'
PLAIN = 'ssdlite_mbv2_w035_cards.py'


def runner_for(config, tmp_path, load_from=None, resume=False, **overrides):
    cfg = load_config(config, **overrides)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = None if load_from is None else str(load_from)
    cfg.resume = resume
    return CheckedRunner.from_cfg(cfg)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """A plain and a NetAug checkpoint (state dicts as mmengine saves)."""
    folder = tmp_path_factory.mktemp('ckpts')
    torch.manual_seed(1)
    plain = build_model(PLAIN)
    netaug = build_model(NETAUG)
    paths = {}
    for name, model in (('plain', plain), ('netaug', netaug)):
        paths[name] = folder / f'{name}.pth'
        torch.save(dict(state_dict=model.state_dict(), meta={}),
                   paths[name])
    return paths, plain.state_dict()


def test_plain_checkpoint_initialises_the_tiny_model(checkpoints, tmp_path):
    paths, plain_state = checkpoints
    runner = runner_for(NETAUG, tmp_path, load_from=paths['plain'])
    runner.load_or_resume()
    tiny = runner.model.export_plain().state_dict()
    assert all(torch.equal(tiny[k], v) for k, v in plain_state.items())


def test_netaug_checkpoint_in_a_plain_config(checkpoints, tmp_path):
    paths, _ = checkpoints
    runner = runner_for(PLAIN, tmp_path, load_from=paths['netaug'])
    with pytest.raises(CheckpointMismatchError) as error:
        runner.load_or_resume()
    assert str(paths['netaug']) in str(error.value)
    assert 'tools/export.py' in str(error.value)


def test_plain_checkpoint_cannot_resume_netaug(checkpoints, tmp_path):
    paths, _ = checkpoints
    runner = runner_for(NETAUG, tmp_path, load_from=paths['plain'],
                        resume=True)
    with pytest.raises(CheckpointMismatchError, match='cannot resume'):
        runner.load_or_resume()


@pytest.mark.parametrize('config', [PLAIN, NETAUG])
def test_other_num_classes_refused(checkpoints, tmp_path, config):
    paths, _ = checkpoints
    overrides = {'model.bbox_head.num_classes': 3} if config == PLAIN else \
        {'model.detector.bbox_head.num_classes': 3}
    runner = runner_for(config, tmp_path, load_from=paths['plain'],
                        **overrides)
    with pytest.raises(CheckpointMismatchError) as error:
        runner.load_or_resume()
    message = str(error.value)
    assert str(paths['plain']) in message
    assert 'other shapes' in message and 'cls_convs' in message


def test_unrelated_checkpoint_refused(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'fc.weight': torch.zeros(2, 2)}), path)
    runner = runner_for(PLAIN, tmp_path, load_from=path)
    with pytest.raises(CheckpointMismatchError, match='keys are missing'):
        runner.load_or_resume()


def logged_messages(action):
    """The messages mmengine's current logger logs while ``action()``
    runs."""
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    MMLogger.get_current_instance().addHandler(handler)
    try:
        action()
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    return messages


def test_auto_resume_in_an_empty_work_dir(tmp_path, caplog):
    runner = runner_for(PLAIN, tmp_path, resume=True)
    messages = logged_messages(runner.load_or_resume)
    assert any('no checkpoint in' in m for m in messages)
    assert not any('None' in m for m in messages if 'resumed' in m)


def test_auto_resume_keeps_load_from_until_there_is_a_checkpoint(
        checkpoints, tmp_path):
    """tools/train.py --resume (apply_resume) in a run's first sitting: the
    config's load_from (a pretrained model) still initialises it, rather
    than random weights; once the work dir holds a checkpoint, the run
    resumes from it."""
    from mmdet_netaug.utils import apply_resume
    paths, plain_state = checkpoints
    cfg = load_config(PLAIN)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from = str(paths['plain'])
    apply_resume(cfg, 'auto')
    assert (cfg.resume, cfg.load_from) == (False, str(paths['plain']))
    runner = CheckedRunner.from_cfg(cfg)
    runner.load_or_resume()
    key = 'backbone.conv1.conv.weight'
    assert torch.equal(runner.model.state_dict()[key], plain_state[key])
    (tmp_path / 'work' / 'epoch_1.pth').write_bytes(b'')
    (tmp_path / 'work' / 'last_checkpoint').write_text(
        str(tmp_path / 'work' / 'epoch_1.pth'))
    again = load_config(PLAIN)
    again.work_dir, again.load_from = cfg.work_dir, str(paths['plain'])
    apply_resume(again, 'auto')
    assert (again.resume, again.load_from) == (True, None)
    apply_resume(again, str(paths['netaug']))  # a checkpoint named wins
    assert (again.resume, again.load_from) == (True, str(paths['netaug']))


def test_partial_opt_in_and_optional_bn_counters(checkpoints, tmp_path):
    paths, plain_state = checkpoints
    # a checkpoint without BatchNorm's num_batches_tracked loads
    trimmed = {k: v for k, v in plain_state.items()
               if not k.endswith('num_batches_tracked')}
    path = tmp_path / 'no_counters.pth'
    torch.save(dict(state_dict=trimmed), path)
    runner_for(PLAIN, tmp_path, load_from=path).load_or_resume()
    # other num_classes: refused by default, loaded in part when asked
    runner = runner_for(PLAIN, tmp_path / 'p', load_from=paths['plain'],
                        checkpoint_check='partial',
                        **{'model.bbox_head.num_classes': 3})
    messages = logged_messages(runner.load_or_resume)
    # how much loaded: all but the 6 class convolutions' weights and biases
    total = len(runner.model.state_dict())
    assert any(f'loading the {total - 12} of the model\'s {total} tensors '
               'that match only' in m for m in messages), messages
    state = runner.model.state_dict()
    key = 'backbone.conv1.conv.weight'
    assert torch.equal(state[key], plain_state[key])


def test_partial_leaves_tensors_of_other_shapes_as_they_were(tmp_path):
    """checkpoint_check='partial' loads the tensors that fit and leaves the
    others: a 3-class plain checkpoint in a 6-class NetAug model does not
    fill the leading channels of its class convolutions (the logits of
    other anchors and classes) as a narrower tiny-model tensor would."""
    torch.manual_seed(2)
    three = build_model(PLAIN, **{'model.bbox_head.num_classes': 3})
    path = tmp_path / 'three_classes.pth'
    torch.save(dict(state_dict=three.state_dict()), path)
    runner = runner_for(NETAUG, tmp_path, load_from=path,
                        checkpoint_check='partial')
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.load_or_resume()
    after = runner.model.state_dict()
    cls = 'bbox_head.cls_convs.0.1.weight'
    assert three.state_dict()[cls].shape[0] < after['detector.' + cls].shape[0]
    for key in (cls, 'bbox_head.cls_convs.0.1.bias'):
        assert torch.equal(after['detector.' + key], before['detector.' + key])
    tiny = runner.model.export_plain().state_dict()
    for key in ('bbox_head.reg_convs.0.1.weight',
                'bbox_head.cls_convs.0.0.conv.weight'):  # fit: loaded
        assert torch.equal(tiny[key], three.state_dict()[key])


@pytest.mark.parametrize('content', [b'these are not weights\n' * 20,
                                     bytes(range(256)) * 4])
def test_file_that_is_not_a_checkpoint(tmp_path, content):
    path = tmp_path / 'notes.pth'
    path.write_bytes(content)
    runner = runner_for(PLAIN, tmp_path, load_from=path)
    with pytest.raises(CheckpointMismatchError,
                       match='(cannot be read as a|is not a torch) checkpoint'):
        runner.load_or_resume()


def test_a_checkpoint_that_cannot_be_downloaded_says_so():
    """A URL checkpoint (the KD COCO configs' teacher) that cannot be
    fetched (no network, here a refused local port) is named as a download
    that failed, not as a truncated or mismatched checkpoint."""
    from mmdet_netaug.models.checkpoint_fit import (CheckpointDownloadError,
                                                    read_checkpoint)
    url = 'http://127.0.0.1:9/netaug_test_unreachable_teacher.pth'
    with pytest.raises(CheckpointDownloadError,
                       match='could not be downloaded .*local path'):
        read_checkpoint(url)


CARDS = ('nine', 'ten', 'jack', 'queen', 'king', 'ace')


def test_checkpoint_of_other_classes_refused(checkpoints, tmp_path):
    """A checkpoint whose recorded class list is the config's in another
    order loaded (same shapes) and named every detection as another
    class; load_from, resume, test and export now refuse it, naming the
    file and both lists. The same order loads, and 'partial' (fine-tuning
    on new classes) is not checked."""
    from mmdet_netaug.apis import build_netaug_model
    paths, plain_state = checkpoints
    reversed_, same = tmp_path / 'reversed.pth', tmp_path / 'same.pth'
    for path, classes in ((reversed_, CARDS[::-1]), (same, CARDS)):
        torch.save(dict(state_dict=plain_state,
                        meta=dict(dataset_meta=dict(classes=classes))), path)
    runner = runner_for(PLAIN, tmp_path / 'a', load_from=reversed_)
    with pytest.raises(CheckpointMismatchError) as error:
        runner.load_or_resume()
    message = str(error.value)
    assert f'{reversed_} was trained on the classes {list(CARDS[::-1])}' \
        in message and f'is {list(CARDS)}' in message
    assert 'train_dataloader.dataset.dataset.metainfo.classes' in message
    runner_for(PLAIN, tmp_path / 'b', load_from=same).load_or_resume()
    runner_for(PLAIN, tmp_path / 'c', load_from=reversed_,
               checkpoint_check='partial').load_or_resume()
    # export: other classes, and a plain checkpoint, are refused
    netaug = load_config(NETAUG)
    with pytest.raises(CheckpointMismatchError, match='trained on the cla'):
        build_netaug_model(netaug, str(reversed_))
    with pytest.raises(CheckpointMismatchError,
                       match="plain detector's checkpoint, not a NetAug"):
        build_netaug_model(netaug, str(same))
    tiny = build_netaug_model(netaug, str(same), plain_checkpoint=True)
    key = 'backbone.conv1.conv.weight'
    assert torch.equal(tiny.export_plain().state_dict()[key],
                       plain_state[key])
