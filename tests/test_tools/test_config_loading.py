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


def test_an_override_that_would_change_nothing_is_refused():
    """Overriding a variable of the file (substituted when it was read) or
    a top-level name nothing reads (a typo of a switch) would be silently
    ignored: both are refused, naming the option; the package's switches
    and mmengine's fields are taken."""
    with pytest.raises(ConfigError, match="'cards_max_epochs' is a variable "
                       r"of the config file.*fields with its value: "
                       r"param_scheduler\.1\.T_max, param_scheduler\.1\.end, "
                       r"train_cfg\.max_epochs"):
        load_config(CARDS, {'cards_max_epochs': 1})
    # the COCO base's variable, which the cards config does not use
    with pytest.raises(ConfigError, match="'max_epochs' is a variable"):
        load_config(CARDS, {'max_epochs': 1})
    with pytest.raises(ConfigError, match="'data_root' is a variable"):
        load_config(CARDS, {'data_root': 'elsewhere/'})
    with pytest.raises(ConfigError, match="'memory_fromat' is not a field"):
        load_config(CARDS, {'memory_fromat': 'channels_last'})
    cfg = load_config(CARDS, {'memory_format': 'channels_last',
                              'batched_targets': True,
                              'validate_at_resume': True,
                              'randomness.seed': 3})
    assert cfg.memory_format == 'channels_last' and cfg.randomness.seed == 3
    # a file read as it was written is not checked: only the overrides
    assert 'max_epochs' in load_config(CARDS)


def test_an_override_of_an_unused_data_preprocessor_is_refused():
    """model.data_preprocessor of a NetAug config and the top-level
    data_preprocessor were merged and ignored (the detector's own is the
    one used), so a NetAug arm could normalise its inputs unlike its
    plain twin; both are refused, naming the field that is used."""
    netaug = str(REPO / 'configs' / 'netaug_ssdlite_mbv2_cards.py')
    with pytest.raises(ConfigError, match=r'model.data_preprocessor is not '
                       r'used .*override model.detector.data_preprocessor.'
                       r'mean instead'):
        load_config(netaug, {'model.data_preprocessor.mean': [0, 0, 0]})
    for config, used in ((netaug, 'model.detector'), (CARDS, 'model')):
        with pytest.raises(ConfigError, match=f'override {used}.data_pre'):
            load_config(config, {'data_preprocessor.std': [1, 1, 1]})
    cfg = load_config(netaug, {'model.detector.data_preprocessor.mean':
                               [0, 0, 0]})
    assert cfg.model.detector.data_preprocessor.mean == [0, 0, 0]
    assert load_config(CARDS, {'model.data_preprocessor.mean': [0, 0, 0]}
                       ).model.data_preprocessor.mean == [0, 0, 0]


def test_a_schedule_left_behind_by_max_epochs_is_a_warning():
    with pytest.warns(UserWarning, match=r'train_cfg\.max_epochs is now 12 '
                      r'\(was 30\), but param_scheduler\.1\.end=30'):
        load_config(CARDS, {'train_cfg.max_epochs': 12})
    import warnings
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        load_config(CARDS, {'train_cfg.max_epochs': 12,
                            'param_scheduler.1.T_max': 12,
                            'param_scheduler.1.end': 12})
    assert not [w for w in seen if 'max_epochs' in str(w.message)]


@pytest.mark.parametrize('name', sorted(
    p.name for p in (REPO / 'configs').glob('*.py')))
def test_auto_scale_lr_starts_from_the_batch_the_lr_is_for(name):
    """--auto-scale-lr multiplies the lr by the batch over
    ``auto_scale_lr.base_batch_size``: that must be the batch the config's
    lr was set for. Configs trained on one device (cards, generated data)
    set it to their own batch; RTMDet's COCO recipe to its 8 x 32 (mmdet's
    configs inherit 16 from schedule_1x); the other COCO/VOC configs keep
    mmdet's recipe (8 devices x the per-device batch)."""
    cfg = load_config(str(REPO / 'configs' / name))
    base = cfg.auto_scale_lr.base_batch_size
    batch = cfg.train_dataloader.batch_size
    if 'rtmdet' in name and 'coco' in name:
        assert base == 256
    elif any(k in name for k in ('cards', 'synthetic', 'hardshapes')):
        assert base == batch
    else:
        assert base == 8 * batch


def test_override_checks_take_test_only_and_flexible_runner_configs(
        tmp_path):
    """A test-only config (train_cfg = None) takes overrides; the fields
    mmengine's FlexibleRunner reads are fields; custom_imports, which acts
    only while the file is read, is refused."""
    config = tmp_path / 'test_only.py'
    config.write_text(f"_base_ = ['{CARDS}']\ntrain_cfg = None\n")
    cfg = load_config(str(config), {'test_evaluator.0.classwise': True})
    assert cfg.train_cfg is None
    load_config(str(config), {'train_cfg': None})
    load_config(CARDS, {'runner_type': 'FlexibleRunner',
                        'strategy.type': 'DDPStrategy',
                        'init_weights_for_test_or_val': False})
    with pytest.raises(ConfigError, match='custom_imports is acted on'):
        load_config(CARDS, {'custom_imports.imports': ['x']})
