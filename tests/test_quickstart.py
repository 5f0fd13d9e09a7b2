"The README's main job, `koniq-lt-quickstart`, end to end on the shipped real KonIQ-10k MOS table."
import pandas as pd
from conftest import run_script


def test_quickstart_writes_splits_statistics_figure_and_demo_result(tmp_path):
    # the README runs the defaults (10 epochs on the 'ci' demo); here one epoch on 'tiny' checks the plumbing,
    # tests/test_learner.py checks that the learner learns
    res = run_script('koniq-lt-quickstart', '--epochs', 1, '--preset', 'tiny', cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path/'runs').iterdir()
    assert run.name.startswith('quickstart-')
    assert {'figure2.png', 'split_lt.csv', 'split_lt_bins.csv', 'split_official.csv', 'split_random.csv', 'split_summary.csv',
            'demo_predictions.csv', 'demo_metrics.csv'} <= {p.name for p in run.iterdir()}
    assert 'DEMO result' in res.stdout and 'NOT KonIQ-10k' in res.stdout
    metrics = pd.read_csv(run/'demo_metrics.csv')
    assert metrics.dataset[0] == 'demo-tiny (not KonIQ-10k)' and metrics.srcc.notna().all()
    assert 'real KonIQ-10k MOS table' in res.stdout and 'train 5,777 images' in res.stdout
    summary = pd.read_csv(run/'split_summary.csv').set_index('statistic')
    assert summary.loc['n_test', 'KonIQ-10k-LT'] == 4296
    again = run_script('koniq-lt-quickstart', '--out', run, '--epochs', 0, cwd=tmp_path)
    assert again.returncode == 2 and 'already exists; pass --force' in again.stderr
