"""Bad input that used to end deep inside a library: each stops with one
message naming the file or the option."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import REPO, build_model, load_config
from mmdet_netaug.datasets import CheckedCocoDataset
from mmdet_netaug.engine import CheckedRunner, CheckpointMismatchError


@pytest.mark.parametrize('content', ['', '{"images": [{"id": 1,',
                                     '[{"id": 1}]'])
def test_broken_annotation_json_named(tmp_path, content):
    ann = tmp_path / 'ann.json'
    ann.write_text(content)
    with pytest.raises(ValueError) as error:
        CheckedCocoDataset(ann_file=str(ann), data_prefix=dict(img=''),
                           metainfo=dict(classes=('a', )), pipeline=[])
    assert str(ann) in str(error.value)
    assert 'not a COCO annotation file' in str(error.value)


def _runner(config, tmp_path, load_from, resume=False):
    cfg = load_config(config)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.load_from, cfg.resume = str(load_from), resume
    return CheckedRunner.from_cfg(cfg)


def test_truncated_checkpoint_named(tmp_path):
    path = tmp_path / 'cut.pth'
    model = build_model('ssdlite_mbv2_w035_cards.py')
    torch.save(dict(state_dict=model.state_dict()), path)
    path.write_bytes(path.read_bytes()[:5000])
    runner = _runner('ssdlite_mbv2_w035_cards.py', tmp_path, path)
    with pytest.raises(CheckpointMismatchError,
                       match=f'{path} cannot be read as a checkpoint'):
        runner.load_or_resume()


def test_resume_with_another_models_checkpoint(tmp_path):
    path = tmp_path / 'yolo.pth'
    model = build_model('yolov3_mbv2_w035_cards.py')
    torch.save(dict(state_dict=model.state_dict()), path)
    runner = _runner('ssdlite_mbv2_w035_cards.py', tmp_path, path,
                     resume=True)
    with pytest.raises(CheckpointMismatchError) as error:
        runner.load_or_resume()
    assert str(path) in str(error.value) and 'missing' in str(error.value)


def test_too_small_trace_input_named():
    with pytest.raises(ValueError, match='trace_input_size'):
        build_model('netaug_yolov3_mbv2_cards.py',
                    **{'model.trace_input_size': (40, 40)})


@pytest.mark.parametrize('option', ['train_cfg.max_epochs',
                                    'model.backbone.out_indices=[1,2'])
def test_malformed_cfg_options_one_message(option, tmp_path):
    proc = subprocess.run(
        [sys.executable, osp.join('tools', 'train.py'),
         'configs/ssdlite_mbv2_w035_cards.py', '--work-dir',
         str(tmp_path), '--cfg-options', option],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert '--cfg-options' in proc.stderr and option in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_export_refusing_an_unsafe_checkpoint_ends_in_one_line(tmp_path):
    """tools/export.py given a checkpoint that holds an object outside the
    safe loader's allow-list stops with its message (the file, the
    object), not a traceback."""
    import argparse
    path = tmp_path / 'odd.pth'
    torch.save(dict(state_dict={}, meta=dict(args=argparse.Namespace())),
               path)
    run = subprocess.run(
        [sys.executable, 'tools/export.py',
         'configs/netaug_ssdlite_mbv2_synthetic.py', str(path),
         str(tmp_path / 'out')], cwd=REPO, capture_output=True, text=True,
        timeout=300)
    assert run.returncode == 1, run.stderr[-2000:]
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f'Error: Refused to load checkpoint {path}')
    assert 'Traceback' not in run.stderr


def test_test_tool_refuses_an_out_file_that_is_not_a_pickle(monkeypatch,
                                                            tmp_path):
    """tools/test.py --out dumps a pickle: another name is an error naming
    the option (mmdet's assert, gone under python -O), before any work."""
    import sys

    from conftest import REPO, load_tool
    monkeypatch.setattr(sys, 'argv', [
        'test.py', str(REPO / 'configs' / 'ssdlite_mbv2_w035_cards.py'),
        str(tmp_path / 'none.pth'), '--out', str(tmp_path / 'preds.json'),
        '--work-dir', str(tmp_path / 'work')])
    with pytest.raises(SystemExit, match=r'--out .*preds\.json: .*\.pkl'):
        load_tool('tools/test.py').main()
    assert not (tmp_path / 'preds.json').exists()
