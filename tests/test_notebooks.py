"Every notebook with a papermill `parameters` cell runs headless with non-default parameters."
import json
import papermill as pm
import pandas as pd
import pytest
from conftest import ROOT

NBS = ROOT/'nbs'
# Non-default parameters per parameterised notebook, and a check of what each run must produce.
RUNS = {
    '01_split.ipynb': dict(seed=3, schedule='mirrored', n_bins=10),
}


def parameterised_notebooks():
    "Notebooks in nbs/ with a cell tagged `parameters`."
    return sorted(p.name for p in NBS.glob('*.ipynb')
                  if any('parameters' in c.get('metadata', {}).get('tags', []) for c in json.loads(p.read_text())['cells']))


def test_every_parameterised_notebook_has_a_run():
    assert parameterised_notebooks() == sorted(RUNS), "add non-default parameters for each parameterised notebook to RUNS"


@pytest.mark.parametrize('name', sorted(RUNS))
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


CHECKS = {'01_split.ipynb': check_split}
