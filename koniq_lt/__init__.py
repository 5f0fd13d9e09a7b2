"""koniq_lt: the KonIQ-10k-LT split, imbalance-aware losses, learners for Table I's models, score-bin error analysis and sweeps.

The short API below loads lazily: `import koniq_lt.analysis` (or `.mos`, `.split`) never loads torch, and
`from koniq_lt import iqa_learner` loads it only then. The layers, bottom to top, are in the README's map.
(Hand-written, as nbdev's own `__init__.py`: nbdev_export only updates `__version__` here.)"""

__version__ = "0.1.0"

import importlib

_API = {
    'koniq_lt.core': ['InputError'],
    'koniq_lt.mos': ['read_mos_table', 'read_iqa_folder'],
    'koniq_lt.testsets': ['read_csiq', 'read_livec', 'read_kadid', 'read_test_dataset'],
    'koniq_lt.images': ['load_rgb', 'check_images', 'image_cache'],
    'koniq_lt.demo': ['read_demo', 'build_demo'],
    'koniq_lt.split': ['lt_split', 'official_split', 'random_split', 'make_split', 'split_summary', 'split_bin_table', 'plot_splits'],
    'koniq_lt.metrics': ['iqa_metrics'],
    'koniq_lt.analysis': ['bin_errors', 'summary_metrics', 'gap', 'plot_bin_errors', 'plot_signed_error', 'plot_scatter',
                          'plot_compare', 'show_worst', 'worst_predictions'],
    'koniq_lt.losses': ['bin_weights', 'BinWeights', 'WeightedMSELoss', 'WeightedL1Loss', 'NormInNormLoss', 'PLCCLoss',
                        'BalancedMSELoss', 'SumOfLosses'],
    'koniq_lt.models': ['create_model', 'list_models', 'model_config', 'register_model'],
    'koniq_lt.dataloaders': ['iqa_dataloaders'],
    'koniq_lt.learner': ['iqa_learner', 'make_loss', 'predict_table', 'fit_linear_map'],
    'koniq_lt.experiments': ['run_experiment', 'load_run', 'cross_evaluate'],
    'koniq_lt.sweep': ['run_sweep', 'collect_results'],
    'koniq_lt.tables': ['paper_tables', 'format_tables', 'cross_table'],
    'koniq_lt.predict': ['predict_images', 'load_iqa_learner'],
    'koniq_lt.explore': ['SweepExplorer', 'load_sweep', 'newest_sweep'],
}
_WHERE = {name: module for module, names in _API.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name):
    "Load `name` of the short API from its module on first use (PEP 562)."
    if name not in _WHERE: raise AttributeError(f"module 'koniq_lt' has no attribute '{name}'")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__(): return sorted(list(globals()) + __all__)
