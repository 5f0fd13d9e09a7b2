"""`koniq-lt-predict` on a learner exported from a one-epoch tiny-demo run: it reproduces `predict_table`, lists corrupt
images and scores the rest, refuses an existing --out before scoring, prints PLCC/SRCC when MOS are known, and says
one sentence for each bad input. The main run goes through the installed script; the others call its function in-process."""
import os, shutil, tempfile, warnings
from pathlib import Path
from types import SimpleNamespace
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run_script
from koniq_lt.learner import predict_table
from koniq_lt.predict import koniq_lt_predict

CROP = 32     # CNNIQA trained on random 32x32 crops of the 48x72 tiny demo: `--n_crops k` scores k seeded random crops


@pytest.fixture(scope='module')
def exported(tiny_demo, tmp_path_factory):
    "A CNNIQA learner trained one epoch on the tiny demo (no ImageNet weights), exported, and loaded back on the CPU; with the demo's folder."
    from koniq_lt.experiments import run_experiment
    run = run_experiment(dict(dataset='demo:tiny', arch='cnniqa', epochs=1, pretrained=False, crop=CROP), progress=False)
    path = tmp_path_factory.mktemp('learner')/'cnniqa.pkl'
    run.learn.export(path)
    from koniq_lt.predict import load_iqa_learner                     # the reference: the same file on the CPU, as the script
    return SimpleNamespace(path=path, learn=load_iqa_learner(path, cpu=True), table=tiny_demo, folder=Path(tiny_demo.attrs['source']).parent)


def predict(run_cli, *args):
    "koniq-lt-predict's function run in this process (on the CPU) with `args`."
    return run_cli(koniq_lt_predict, 'koniq-lt-predict', '--cpu', *args)


def one_error_sentence(res) -> str:
    "The error of a refused run: exit status 2, one line on stderr ending in a full stop."
    lines = [l for l in res.stderr.splitlines() if l.startswith('koniq-lt-predict:')]
    assert res.returncode == 2 and len(lines) == 1 and lines[0].startswith('koniq-lt-predict: error: ') and lines[0].endswith('.'), res
    return lines[0]


def test_script_reproduces_predict_table_and_prints_metrics(exported, tmp_path):
    out = tmp_path/'scores.csv'
    res = run_script('koniq-lt-predict', '--images', exported.folder, '--learner', exported.path, '--out', out, '--cpu')
    assert res.returncode == 0, res.stderr
    scores = pd.read_csv(out)
    assert list(scores.columns) == ['image_name', 'prediction', 'MOS']
    ref = predict_table(exported.learn, exported.table)              # the run's own test protocol, every image
    assert list(scores.image_name) == list(ref.image_name)
    assert np.abs(scores.prediction.to_numpy() - ref.prediction.to_numpy()).max() < 1e-4
    assert np.allclose(scores.MOS, exported.table.MOS)
    from koniq_lt.metrics import iqa_metrics
    m = iqa_metrics(ref.MOS, ref.prediction)
    assert f"PLCC {m.plcc:.4f}  SRCC {m.srcc:.4f}  (n = {len(ref)})" in res.stdout          # MOS known: the correlations
    assert "(whole 48x72 images)" in res.stdout


def test_random_crops_of_a_csv_reproduce_predict_table(exported, tmp_path, run_cli):
    rows = np.arange(0, len(exported.table), 8)
    images = exported.table.iloc[rows]
    listed = tmp_path/'list.csv'
    images[['path', 'MOS']].assign(path=[os.path.relpath(p, tmp_path) for p in images.path]).to_csv(listed, index=False)  # relative to the CSV
    res = predict(run_cli, '--images', listed, '--learner', exported.path, '--out', tmp_path/'s.csv', '--n_crops', 3, '--seed', 5)
    assert res.returncode == 0, res.stderr
    assert f"the mean of 3 random {CROP}x{CROP} crops (seed 5)" in res.stdout and f"(n = {len(rows)})" in res.stdout
    ref = predict_table(exported.learn, exported.table, rows=rows, n_crops=3, seed=5)
    assert np.abs(pd.read_csv(tmp_path/'s.csv').prediction.to_numpy() - ref.prediction.to_numpy()).max() < 1e-4
    other = predict_table(exported.learn, exported.table, rows=rows, n_crops=3, seed=6)
    assert not np.allclose(other.prediction, ref.prediction)         # the crops are random: the seed is what makes them equal


def test_corrupt_images_are_listed_and_the_rest_scored(exported, tmp_path, run_cli):
    folder = tmp_path/'photos'
    (folder/'more').mkdir(parents=True)
    good = ['a.jpg', 'b.jpg', 'more/c.jpg']
    for name, src in zip(good, exported.table.path): shutil.copy(src, folder/name)
    (folder/'more'/'truncated.jpg').write_bytes(Path(exported.table.path[3]).read_bytes()[:300])
    (folder/'text.png').write_text('not an image')
    res = predict(run_cli, '--images', folder, '--learner', exported.path, '--out', tmp_path/'s.csv')
    assert res.returncode == 1                                        # some images were skipped: a script notices
    warning = [l for l in res.stderr.splitlines() if l.startswith('koniq-lt-predict:')]
    assert warning == ["koniq-lt-predict: warning: 2 of 5 images cannot be decoded and were not scored "
                       "(more/truncated.jpg: corrupt or truncated; text.png: not an image); fix or remove them."]
    scores = pd.read_csv(tmp_path/'s.csv')
    assert list(scores.columns) == ['image_name', 'prediction'] and sorted(scores.image_name) == sorted(good)
    assert 'PLCC' not in res.stdout                                    # no MOS, no correlations
    assert not list(Path(tempfile.gettempdir()).glob(f'koniq_lt-predict-{os.getpid()}-*'))   # the scratch image cache is gone


def test_existing_out_is_refused_before_scoring(exported, tmp_path, run_cli, monkeypatch):
    out = tmp_path/'s.csv'
    out.write_text('keep me\n')
    import koniq_lt.predict as predict_module
    def no_loading(*args, **kwargs): raise AssertionError("the learner was loaded before --out was checked")
    monkeypatch.setattr(predict_module, 'load_iqa_learner', no_loading)
    res = predict(run_cli, '--images', exported.folder, '--learner', exported.path, '--out', out)
    assert "'" + str(out) + "' already exists; pass --force" in one_error_sentence(res)
    assert out.read_text() == 'keep me\n'
    monkeypatch.undo()
    images = tmp_path/'one.csv'
    pd.DataFrame({'path': exported.table.path[:2]}).to_csv(images, index=False)
    assert predict(run_cli, '--images', images, '--learner', exported.path, '--out', out, '--force').returncode == 0
    assert len(pd.read_csv(out)) == 2


def _bad_inputs(tmp: Path, exported) -> dict:
    "Name → (arguments, words of the one-sentence error)."
    (tmp/'empty').mkdir()
    (tmp/'text.pkl').write_text('not a pickle')
    torch.save({'model': 1}, tmp/'weights.pth')
    (tmp/'nocol.csv').write_text('file\na.jpg\n')
    (tmp/'mos.csv').write_text(f"path,MOS\n{exported.table.path[0]},good\n")
    from fastai.learner import load_learner
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                    # fastai's pickle warning
        plain = load_learner(exported.path)                # a fastai learner that iqa_learner did not make: no test protocol
    del plain.iqa_config
    plain.export(tmp/'plain.pkl')
    images, learner = str(exported.folder), str(exported.path)
    return {
        'missing learner': (['--images', images, '--learner', tmp/'none.pkl'], "The learner file '%s' does not exist" % (tmp/'none.pkl')),
        'not a pickle': (['--images', images, '--learner', tmp/'text.pkl'], "cannot be read as an exported learner"),
        'only weights': (['--images', images, '--learner', tmp/'weights.pth'], "holds no exported learner"),
        'plain learner': (['--images', images, '--learner', tmp/'plain.pkl'], "a fastai learner not made by koniq_lt's iqa_learner"),
        'imports': (['--images', images, '--learner', learner, '--imports', 'no_such_module'], "The module 'no_such_module' named in imports cannot be imported"),
        'empty folder': (['--images', tmp/'empty', '--learner', learner], "holds no images (.jpg, .jpeg, .png"),
        'no images': (['--images', tmp/'nowhere', '--learner', learner], "does not exist; give --images a folder of images, a CSV"),
        'csv column': (['--images', tmp/'nocol.csv', '--learner', learner], "has neither a 'path' nor an 'image_name' column (its columns: file)"),
        'csv MOS': (['--images', tmp/'mos.csv', '--learner', learner], "column 'MOS' is not a number on line 2"),
        'n_crops': (['--images', images, '--learner', learner, '--n_crops', -2], "n_crops must be -1 (the model's test protocol)"),
        'bs': (['--images', images, '--learner', learner, '--bs', 0], "The batch size must be at least 1 (--bs)"),
        'no learner': (['--images', images], "Give --learner"),
    }


@pytest.mark.parametrize('case', ['missing learner', 'not a pickle', 'only weights', 'plain learner', 'imports', 'empty folder', 'no images', 'csv column',
                                  'csv MOS', 'n_crops', 'bs', 'no learner'])
def test_bad_input_is_one_sentence(case, exported, tmp_path, run_cli):
    args, words = _bad_inputs(tmp_path, exported)[case]
    res = predict(run_cli, *args, '--out', tmp_path/'s.csv')
    assert words in one_error_sentence(res)
    assert not (tmp_path/'s.csv').exists()


@pytest.mark.parametrize('layout, n', [('csiq', 18), ('livec', 20), ('kadid', 20)])
def test_a_test_dataset_folder_is_scored_against_its_mos(layout, n, exported, tmp_path, run_cli):
    import testsets_layouts as layouts
    folder = getattr(layouts, f'make_{layout}')(tmp_path/layout, exported.table)      # the dataset's own layout and score scale
    res = predict(run_cli, '--images', folder, '--learner', exported.path, '--out', tmp_path/'s.csv')
    assert res.returncode == 0, res.stderr
    scores = pd.read_csv(tmp_path/'s.csv')
    assert list(scores.columns) == ['image_name', 'prediction', 'MOS'] and len(scores) == n   # LIVE Challenge without its 7 training images
    assert scores.MOS.between(0, 100).all() and f"(n = {n})" in res.stdout and 'PLCC' in res.stdout
