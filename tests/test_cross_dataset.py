"""Table V from a sweep: a tiny demo sweep whose runs are also tested on miniature CSIQ and KADID-10k folders (their
official layouts, built from demo images) gathers one cross row per run and dataset and prints Table V as demo numbers."""
import json
from pathlib import Path
import pandas as pd
from conftest import with_rating_histograms
from testsets_layouts import make_csiq, make_kadid
from koniq_lt.cli import koniq_lt_sweep


def test_a_demo_sweep_with_cross_datasets_gives_table_v_as_demo_numbers(tiny_demo, tmp_path, run_cli):
    csiq, kadid = make_csiq(tmp_path/'CSIQ', tiny_demo), make_kadid(tmp_path/'kadid10k', tiny_demo)
    runs = tmp_path/'runs'
    res = run_cli(koniq_lt_sweep, 'koniq-lt-sweep', '--runs', runs, '--dataset', 'demo:tiny', '--split', 'official', '--method', 'mse,mse+pwb',
                  '--seed', '0', '--epochs', '1', '--full_run', 'False', '--pretrained', 'False', '--runner', 'inline',
                  '--cross_datasets', f'{csiq},{kadid}')
    assert res.returncode == 0, res.stdout + res.stderr
    cross = pd.read_csv(runs/'cross.csv')
    assert len(cross) == 4 and sorted(set(cross.test_dataset)) == ['CSIQ', 'KADID-10k']      # each run on each dataset
    assert set(cross.weighting) == {'none', 'pwb'} and cross.split.eq('official').all() and cross.n.gt(10).all()
    text = res.stdout[res.stdout.index('Table V'):]
    assert text.startswith('Table V — DEMO results, trained on demo-tiny (not KonIQ-10k): NOT KonIQ-10k numbers'), text
    rows = [line.split()[-6] for line in text.splitlines()[4:6]]                              # the method of each row
    assert rows == ['mse', 'mse+pwb'] and 'CSIQ' in text and 'KADID-10k' in text, text
    assert 'paper' not in text                                                               # no paper numbers beside demo runs
    run = next(p for p in runs.iterdir() if p.is_dir())
    assert {'cross.csv', 'cross_predictions.csv'} <= set(json.loads((run/'done.json').read_text())['files'])   # part of the record


def test_a_model_trained_on_rating_histograms_is_scored_on_other_datasets(tiny_demo, tmp_path):
    "NIMA (EMD loss, histogram targets): the other datasets have no rating histograms, yet are scored, and the run is kept."
    from koniq_lt.experiments import run_experiment
    rated = tmp_path/'rated'                                   # the tiny demo as a KonIQ-style folder with rating histograms
    rated.mkdir()
    (rated/'72x48').symlink_to(Path(tiny_demo.path[0]).parent)
    with_rating_histograms(tiny_demo).drop(columns='path').to_csv(rated/'mos.csv', index=False)
    kadid = make_kadid(tmp_path/'kadid10k', tiny_demo)
    run = run_experiment(dict(dataset=str(rated), arch='nima_emd', epochs=1, pretrained=False, cross_datasets=[kadid]),
                         out_dir=tmp_path/'run', progress=False)
    (row,) = run.cross.to_dict('records')
    assert row['test_dataset'] == 'KADID-10k' and row['error'] == '' and row['n'] == 20, row
    assert (tmp_path/'run'/'done.json').exists()


def test_table_v_pairs_the_paper_with_each_models_own_loss():
    "The paper's Table V rows are ResNet50 and TOPIQ with their own losses, plain and with PWB: the registry must agree."
    from koniq_lt.models import model_config
    from koniq_lt.tables import PAPER_TABLE_V
    for arch, method in PAPER_TABLE_V.index: assert method.removesuffix('+pwb') == model_config(arch).loss, (arch, method)
