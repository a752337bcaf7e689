"""Paired accuracy comparisons (``tools/analysis_tools/compare_accuracy.py``
is their command line): planning the runs, running them resumably, reading
their logs, the statistics and the report."""
from .constants import (DEFAULT_KEYS, DEFAULT_SEEDS, DONE_FILE,
                        HOLDOUT_TRAIN_NAME, HOLDOUT_VAL_NAME, LOG_FILE,
                        METRICS, ROLE_TITLES, ROLES, RUN_FILE)
from .planning import (Run, config_name, find_seeds, holdout_mask,
                       holdout_names, holdout_options, pairs_of,
                       parse_cfg_options, plan_runs, root_of,
                       schedule_options, split_holdout,
                       unrecorded_configs, val_ann_file, validation_rule)
from .report import (format_report, plot_curves, plotted_seeds, report_header,
                     role_titles)
from .results import (last_fifth_change, last_fifth_mean, last_fifth_trend,
                      mean_std, missing_validations, paired_difference,
                      read_train_loss, read_val_metrics, summarize,
                      summarize_run)
from .running import (Launcher, RunLock, run_state, same_settings,
                      settings_mismatches, train_all)

__all__ = [
    'DEFAULT_KEYS', 'DEFAULT_SEEDS', 'DONE_FILE', 'HOLDOUT_TRAIN_NAME',
    'HOLDOUT_VAL_NAME', 'LOG_FILE', 'METRICS', 'ROLE_TITLES', 'ROLES',
    'RUN_FILE', 'Launcher', 'Run', 'RunLock', 'config_name', 'find_seeds',
    'format_report', 'holdout_mask', 'holdout_names', 'holdout_options',
    'last_fifth_change', 'last_fifth_mean', 'last_fifth_trend', 'mean_std',
    'missing_validations', 'paired_difference', 'pairs_of',
    'parse_cfg_options', 'plan_runs', 'plot_curves', 'plotted_seeds',
    'read_train_loss', 'read_val_metrics', 'report_header', 'role_titles',
    'root_of', 'run_state', 'same_settings', 'schedule_options',
    'settings_mismatches', 'split_holdout', 'summarize', 'summarize_run',
    'train_all', 'unrecorded_configs', 'val_ann_file', 'validation_rule'
]
