"Every notebook with a papermill `parameters` cell runs headless with non-default parameters."
import json
import papermill as pm
import pandas as pd
import pytest
from conftest import ROOT

NBS = ROOT/'nbs'
# Non-default parameters per parameterised notebook, and a check of what each run must produce.
RUNS = {
    '04_split.ipynb': dict(seed=3, schedule='mirrored', n_bins=10),
    # full_run=False: one epoch on the tiny demo; the size-matched control split, Norm-in-Norm (scale-free: the linear map)
    # and PWB with a non-default eps
    'experiment.ipynb': dict(split='official_small', loss='norm_in_norm', weighting='pwb', eps=0.05, weight_params={'normalize': True},
                             seed=1, full_run=False),
}


def parameterised_notebooks():
    "Notebooks in nbs/ with a cell tagged `parameters`."
    return sorted(p.name for p in NBS.glob('*.ipynb')
                  if any('parameters' in c.get('metadata', {}).get('tags', []) for c in json.loads(p.read_text())['cells']))


ELSEWHERE = {'explore.ipynb': "tests/test_explore.py, on the README main job's sweep (methods, bin and a damaged run given)"}


def test_every_parameterised_notebook_has_a_run():
    assert parameterised_notebooks() == sorted([*RUNS, *ELSEWHERE]), "add non-default parameters for each parameterised notebook to RUNS"


@pytest.mark.parametrize('name', [pytest.param(n, marks=pytest.mark.slow) if n == 'experiment.ipynb' else n for n in sorted(RUNS)])
def test_papermill_run(name, tmp_path):
    out_dir = tmp_path/'out'
    pm.execute_notebook(NBS/name, tmp_path/name, parameters={**RUNS[name], 'out_dir': str(out_dir)},
                        cwd=str(NBS), kernel_name='python3', progress_bar=False)
    executed = json.loads((tmp_path/name).read_text())
    assert any('injected-parameters' in c['metadata'].get('tags', []) for c in executed['cells'])
    CHECKS[name](out_dir, RUNS[name])


def check_split(out_dir, params):
    "The mirrored 10-bin split: files written, counts per schedule, train leaning low."
    assert (out_dir/'figure2.png').stat().st_size > 10_000
    lt = pd.read_csv(out_dir/'split_lt.csv')
    assert len(lt) == 10073 and lt.bin.max() == 8          # KonIQ's top MOS, 88.4, is in bin 8 of 10
    assert lt.MOS[lt.split == 'train'].mean() < lt.MOS[lt.split == 'test'].mean()
    bins = pd.read_csv(out_dir/'split_lt_bins.csv')
    assert len(bins) == params['n_bins']
    assert bins.target.iloc[0] == 0.9 and (bins.n_train == bins.target_n_train).all()
    summary = pd.read_csv(out_dir/'split_summary.csv').set_index('statistic')
    assert list(summary.columns) == ['official', 'size-matched random', 'KonIQ-10k-LT']
    assert summary.loc['n_train', 'size-matched random'] == summary.loc['n_train', 'KonIQ-10k-LT']


def check_experiment(out_dir, params):
    "The run folder: config, one results row of finite metrics on both test sets, predictions, per-bin errors, figures."
    import numpy as np
    files = {p.name for p in out_dir.iterdir()}
    figures = ('bin_errors.png', 'signed_error.png', 'scatter.png', 'worst.png')
    assert {'config.json', 'results.csv', 'predictions.csv', 'bins.csv', *figures} <= files
    assert all((out_dir/f).stat().st_size > 10_000 for f in figures)
    config = json.loads((out_dir/'config.json').read_text())
    assert {k: config[k] for k in params} == params and config['dataset_label'] == 'demo-tiny (not KonIQ-10k)'
    (row,) = pd.read_csv(out_dir/'results.csv').to_dict('records')
    for m in ('plcc', 'srcc', 'krcc', 'rmse', 'mae', 'bmae', 'brmse', 'shared_plcc', 'shared_srcc', 'shared_bmae',
              'fit_seconds', 'train_images_per_s'):
        assert np.isfinite(row[m]), m
    assert row['split'] == 'official_small' and row['weighting'] == 'pwb' and row['eps'] == 0.05 and row['seed'] == 1
    assert row['device'].startswith('CPU') and row['koniq_lt'] and row['commit']
    pred = pd.read_csv(out_dir/'predictions.csv')
    assert len(pred) == row['n'] and np.isfinite(pred.prediction).all()
    # Norm-in-Norm has no scale: the errors are those of LinearityIQA's map, fitted on the training images
    assert np.isfinite([row['map_k'], row['map_b']]).all() and np.isnan(row['noise_sigma'])
    assert np.allclose(pred.prediction, row['map_k'] * pred.raw_prediction + row['map_b'])
    assert np.isclose(row['mae'], (pred.prediction - pred.MOS).abs().mean())
    assert 0 < row['shared_n'] <= row['n']                   # the official test set holds every shared test image
    bins = pd.read_csv(out_dir/'bins.csv')
    assert len(bins) == 20 and bins.n_test.sum() == row['n'] and bins.n_train.sum() == row['n_train']


CHECKS = {'04_split.ipynb': check_split, 'experiment.ipynb': check_experiment}
