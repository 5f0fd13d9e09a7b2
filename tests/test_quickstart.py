"The README's main job, `koniq-lt-quickstart`, end to end on the shipped real KonIQ-10k MOS table."
import pandas as pd
from conftest import run_script


def test_quickstart_writes_splits_statistics_and_figure(tmp_path):
    res = run_script('koniq-lt-quickstart', cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (run,) = (tmp_path/'runs').iterdir()
    assert run.name.startswith('quickstart-')
    assert sorted(p.name for p in run.iterdir()) == ['figure2.png', 'split_lt.csv', 'split_lt_bins.csv', 'split_official.csv',
                                                     'split_random.csv', 'split_summary.csv']
    assert 'real KonIQ-10k MOS table' in res.stdout and 'train 5,777 images' in res.stdout
    summary = pd.read_csv(run/'split_summary.csv').set_index('statistic')
    assert summary.loc['n_test', 'KonIQ-10k-LT'] == 4296
    again = run_script('koniq-lt-quickstart', '--out', run, cwd=tmp_path)
    assert again.returncode == 2 and 'already exists; pass --force' in again.stderr
