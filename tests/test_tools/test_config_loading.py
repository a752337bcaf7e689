"""The one config loader (mmdet_netaug.utils.config.load_config) and its
command-line form: overrides in order, errors naming the file or option."""
import pytest

from conftest import REPO
from mmdet_netaug.utils import ConfigError, load_cli_config, load_config

CARDS = str(REPO / 'configs' / 'ssdlite_mbv2_w035_cards.py')


def test_overrides_merge_in_order_and_are_not_consumed():
    first = {'train_dataloader.batch_size': 4, 'train_cfg.max_epochs': 3}
    second = {'train_dataloader.batch_size': 2}
    cfg = load_config(CARDS, first, None, {}, second)
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.train_cfg.max_epochs == 3
    assert first == {'train_dataloader.batch_size': 4,
                     'train_cfg.max_epochs': 3}


def test_package_config_names_load():
    cfg = load_config(
        'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py')
    assert cfg.model.type == 'SingleStageDetector'


def test_errors_name_the_file_or_the_option(tmp_path):
    broken = tmp_path / 'broken.py'
    broken.write_text('model = dict(\n')
    with pytest.raises(ConfigError, match='missing.py not found'):
        load_config(str(tmp_path / 'missing.py'))
    with pytest.raises(ConfigError, match='cannot load config .*broken.py'):
        load_config(str(broken))
    with pytest.raises(ConfigError, match='do not fit .*ssdlite_mbv2_w035'):
        load_config(CARDS, {'model.backbone.widen_factor.x': 1})
    # a command line ends with one line naming the option, not a traceback
    with pytest.raises(SystemExit, match='Error: --cfg-options'):
        load_cli_config(CARDS, {'model.backbone.widen_factor.x': 1})
