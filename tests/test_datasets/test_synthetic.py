"""Tests for tools/misc/synthetic_shapes.py and its CLI,
tools/misc/make_synthetic_dataset.py."""
import contextlib
import io
import json
import os
import time
from pathlib import Path

import cv2
import pytest
from pycocotools.coco import COCO

from conftest import load_tool

synthetic = load_tool('tools/misc/synthetic_shapes.py')
DEFAULT_IMAGE_SIZE = synthetic.DEFAULT_IMAGE_SIZE
DEFAULT_NUM_TRAIN = synthetic.DEFAULT_NUM_TRAIN
DEFAULT_NUM_VAL = synthetic.DEFAULT_NUM_VAL
SYNTHETIC_CLASSES = synthetic.SYNTHETIC_CLASSES
make_synthetic_coco = synthetic.make_synthetic_coco

SMALL = dict(num_train=12, num_val=5, image_size=(96, 128), seed=3)


def file_bytes(root):
    """Map relative path -> bytes for every file under root."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(Path(root).rglob('*')) if p.is_file()
    }


def test_defaults():
    assert (DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL) == (200, 50)
    assert DEFAULT_IMAGE_SIZE == (160, 160)
    assert SYNTHETIC_CLASSES == ('circle', 'square', 'triangle')


def test_deterministic(tmp_path):
    meta_a = make_synthetic_coco(str(tmp_path / 'a'), **SMALL)
    meta_b = make_synthetic_coco(str(tmp_path / 'b'), **SMALL)
    assert meta_a['generated'] and meta_b['generated']
    files_a, files_b = file_bytes(tmp_path / 'a'), file_bytes(tmp_path / 'b')
    assert len(files_a) == 12 + 5 + 3  # images, 2 json, meta.json
    assert files_a == files_b
    # another seed gives other images
    make_synthetic_coco(str(tmp_path / 'c'), **dict(SMALL, seed=4))
    files_c = file_bytes(tmp_path / 'c')
    assert files_c['images/train_00000.png'] != files_a[
        'images/train_00000.png']


def test_counts_boxes_and_pycocotools(tmp_path):
    out = tmp_path / 'syn'
    meta = make_synthetic_coco(str(out), **SMALL)
    height, width = SMALL['image_size']
    for split, num in (('train', 12), ('val', 5)):
        ann_file = out / 'annotations' / f'{split}.json'
        coco = COCO(str(ann_file))
        assert len(coco.getImgIds()) == num
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(
            SYNTHETIC_CLASSES)
        assert meta['num_images'][split] == num
        assert meta['num_annotations'][split] == len(coco.getAnnIds())
        for img in coco.dataset['images']:
            assert (img['height'], img['width']) == (height, width)
            pixels = cv2.imread(str(out / 'images' / img['file_name']))
            assert pixels.shape == (height, width, 3)
            anns = coco.imgToAnns[img['id']]
            assert 1 <= len(anns) <= 4
            for ann in anns:
                x, y, w, h = ann['bbox']
                assert 0 <= x and 0 <= y
                assert x + w <= width and y + h <= height
                assert 0.1 * min(height, width) <= min(w, h)
                assert max(w, h) <= 0.5 * min(height, width) + 1
                assert ann['area'] == w * h and ann['iscrowd'] == 0


def test_second_call_is_noop(tmp_path):
    out = tmp_path / 'syn'
    make_synthetic_coco(str(out), **SMALL)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob('*')}
    start = time.perf_counter()
    meta = make_synthetic_coco(str(out), **SMALL)
    assert time.perf_counter() - start < 0.5
    assert meta['generated'] is False
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*')} == mtimes
    # other parameters or a missing image: generated again
    assert make_synthetic_coco(str(out), **dict(SMALL, num_val=6))[
        'generated']
    os.remove(out / 'images' / 'val_00002.png')
    assert make_synthetic_coco(str(out), **dict(SMALL, num_val=6))[
        'generated']
    assert (out / 'images' / 'val_00002.png').is_file()


def test_regenerating_fewer_deletes_stale_images(tmp_path):
    out = tmp_path / 'syn'
    make_synthetic_coco(str(out), **dict(SMALL, num_val=6))
    (out / 'images' / 'notes.txt').write_text('mine')
    (out / 'images' / 'val_7.png').write_bytes(b'not generated')
    meta = make_synthetic_coco(str(out), **dict(SMALL, num_val=3))
    assert meta['generated'] and meta['stale_removed'] == 3
    names = {p.name for p in (out / 'images').iterdir()}
    assert {f'val_{i:05d}.png' for i in range(3)} <= names
    assert not {f'val_{i:05d}.png' for i in range(3, 6)} & names
    # files the generator does not name are the user's: kept
    assert {'notes.txt', 'val_7.png'} <= names
    assert len(names) == 12 + 3 + 2
    assert make_synthetic_coco(str(out), **dict(SMALL, num_val=3))[
        'stale_removed'] == 0


def test_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    theirs = tmp_path / 'theirs'
    (theirs / 'images').mkdir(parents=True)
    (theirs / 'annotations').mkdir()
    (theirs / 'images' / 'train_00001.jpg').write_bytes(b'a photo')
    (theirs / 'annotations' / 'train.json').write_text('{}')
    before = file_bytes(theirs)
    with pytest.raises(ValueError, match='no meta.json of a dataset gen'):
        make_synthetic_coco(str(theirs), **SMALL)
    cli = load_tool('tools/misc/make_synthetic_dataset.py')
    with pytest.raises(SystemExit):
        cli.main(['--out', str(theirs), '--num-train', '1'])
    assert f'{theirs} holds files but no meta.json' in capsys.readouterr().err
    assert file_bytes(theirs) == before
    with pytest.raises(ValueError, match='is a file'):
        make_synthetic_coco(str(theirs / 'annotations' / 'train.json'))
    # an empty folder, or one an interrupted generation left, is written
    (tmp_path / 'empty').mkdir()
    assert make_synthetic_coco(str(tmp_path / 'empty'), **SMALL)['generated']


def test_an_interrupted_generation_is_not_complete(tmp_path):
    out = tmp_path / 'syn'
    make_synthetic_coco(str(out), **SMALL)
    # another seed stopped after writing its meta.json's marker and
    # before its images: same counts, the old images all there
    params = json.loads((out / 'meta.json').read_text())['params']
    (out / 'meta.json').write_text(json.dumps(
        dict(params=dict(params, seed=4), incomplete=True)))
    assert not synthetic.is_complete_synthetic_coco(
        str(out), dict(params, seed=4))
    meta = make_synthetic_coco(str(out), **dict(SMALL, seed=4))
    assert meta['generated']
    assert 'incomplete' not in json.loads((out / 'meta.json').read_text())
    assert file_bytes(out) == file_bytes(_fresh(tmp_path, seed=4))


def _fresh(tmp_path, **changes):
    out = tmp_path / 'fresh'
    make_synthetic_coco(str(out), **dict(SMALL, **changes))
    return out


def test_bad_arguments(tmp_path, capsys):
    with pytest.raises(ValueError, match='num_train'):
        make_synthetic_coco(str(tmp_path), num_train=-1)
    with pytest.raises(ValueError, match='num_val should be a positive'):
        make_synthetic_coco(str(tmp_path), num_val=0)
    cli = load_tool('tools/misc/make_synthetic_dataset.py')
    for argv, option in ((['--num-train', '0'], '--num-train'),
                         (['--num-val', '-5'], '--num-val'),
                         (['--seed', '-1'], '--seed')):
        with pytest.raises(SystemExit):
            cli.main(['--out', str(tmp_path / 'x')] + argv)
        assert f'argument {option}: expected' in capsys.readouterr().err
    assert not (tmp_path / 'x').exists()
    with pytest.raises(ValueError, match='image_size'):
        make_synthetic_coco(str(tmp_path), image_size=(16, 160))
    with pytest.raises(ValueError, match='seed'):
        make_synthetic_coco(str(tmp_path), seed=-2)


def test_cli(tmp_path):
    cli = load_tool('tools/misc/make_synthetic_dataset.py')
    out = tmp_path / 'syn'
    argv = ['--out', str(out), '--num-train', '3', '--num-val', '2',
            '--size', '64', '--seed', '1']
    for expected in ('generated', 'reused'):
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            cli.main(argv)
        assert expected in stdout.getvalue()
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['params']['image_size'] == [64, 64]
    assert meta['num_images'] == dict(train=3, val=2)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        cli.main(argv[:2] + ['--num-train', '1'] + argv[4:])
    assert '2 images of an earlier generation it does not list deleted' \
        in stdout.getvalue()
