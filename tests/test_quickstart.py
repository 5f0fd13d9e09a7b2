"The README's main job, `koniq-lt-quickstart`, end to end: the real KonIQ-10k split, then a small demo sweep."
import numpy as np
import pandas as pd
import pytest
from conftest import run_script


@pytest.mark.slow
def test_quickstart_writes_splits_statistics_figures_and_demo_tables(tmp_path):
    # the README runs the defaults (5 epochs on the 'ci' demo, 2 seeds); here --quick (one epoch on tiny inputs)
    # and one seed check the plumbing, two runs in parallel; tests/test_learner.py checks that the learner learns
    res = run_script('koniq-lt-quickstart', '--quick', '--seeds', 1, '--jobs', 2, cwd=tmp_path)   # two runs at a time
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path/'runs').iterdir()
    assert run.name.startswith('quickstart-')
    assert {'figure2.png', 'split_lt.csv', 'split_lt_bins.csv', 'split_official.csv', 'split_random.csv', 'split_summary.csv',
            'demo_lt_bin_mae.png', 'sweep'} <= {p.name for p in run.iterdir()}
    assert 'real KonIQ-10k MOS table' in res.stdout and 'train 5,777 images' in res.stdout
    summary = pd.read_csv(run/'split_summary.csv').set_index('statistic')
    assert summary.loc['n_test', 'KonIQ-10k-LT'] == 4296
    results = pd.read_csv(run/'sweep'/'results.csv')
    assert sorted(zip(results.split, results.loss, results.weighting)) == [
        ('lt', 'bmc', 'none'), ('lt', 'mse', 'none'), ('lt', 'mse', 'pwb'), ('official', 'mse', 'none')]
    assert (results.dataset_label == 'demo-tiny (not KonIQ-10k)').all() and np.isfinite(results[['plcc', 'srcc']]).all().all()
    assert 'Table I — DEMO results' in res.stdout and 'Table II — DEMO results' in res.stdout and 'NOT KonIQ-10k' in res.stdout
    assert (run/'sweep'/'tables.txt').read_text().startswith('Table I — DEMO results')
    again = run_script('koniq-lt-quickstart', '--out', run, '--epochs', 0, cwd=tmp_path)
    assert again.returncode == 2 and 'already exists; pass --force' in again.stderr
