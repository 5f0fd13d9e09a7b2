"""The front door (issue 12): one registry of models, a fastai-shaped learner that refuses what it cannot use, bin weights
that know their scale, one experiment run in the library (inline or through papermill), and layers that show."""
import subprocess, sys, textwrap
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from fastai.learner import Learner
from conftest import BIN, with_rating_histograms
from koniq_lt.core import InputError
from koniq_lt.split import lt_split, official_split
from koniq_lt.losses import BinWeights, WeightedMSELoss
from koniq_lt.models import create_model, list_models, model_config, register_model
from koniq_lt.dataloaders import iqa_dataloaders
from koniq_lt.learner import iqa_learner

TABLE_I = ['cnniqa', 'vgg16', 'resnet50', 'dbcnn', 'nima', 'nima_emd', 'tres', 'topiq', 'maniqa', 'tres_flipback', 'maniqa_crops']
# fixtures from conftest.py: `tiny_demo`, and `tiny_lt_dls` (CNNIQA DataLoaders of its seed-0 LT split)


# -- silent keyword arguments
@pytest.mark.parametrize('weighting', ['none', 'pwb'])
def test_unknown_keywords_are_one_sentence(tiny_lt_dls, weighting):
    with pytest.raises(InputError, match=r"iqa_learner takes no argument 'pretraind' \(did you mean 'pretrained'\?\)"):
        iqa_learner(tiny_lt_dls, weighting=weighting, pretraind=False)
    with pytest.raises(InputError, match="takes no argument 'eps'"): iqa_learner(tiny_lt_dls, weighting=weighting, eps=0.05)


def test_weighting_parameters_are_one_explicit_argument(tiny_lt_dls):
    learn = iqa_learner(tiny_lt_dls, loss='mse', weighting='pwb', weight_params={'eps': 0.05})
    assert np.isclose(learn.loss_func.weights.weights.max().item(), 1 / 0.05)      # PWB's largest weight is 1/eps
    with pytest.raises(InputError, match="The 'none' weighting takes no parameter 'eps'"):
        iqa_learner(tiny_lt_dls, weight_params={'eps': 0.05})


def test_fastai_arguments_pass_through(tiny_lt_dls, tmp_path):
    from fastai.metrics import mae
    from fastai.callback.core import Callback
    class Seen(Callback):
        "Record that fit ran with this callback."
        ran = False
        def before_fit(self): Seen.ran = True
    learn = iqa_learner(tiny_lt_dls, metrics=[mae], cbs=[Seen()], path=tmp_path, model_dir='m', train_bn=False, save_best=False)
    assert learn.path == tmp_path and learn.model_dir == 'm' and learn.train_bn is False
    with learn.no_bar(), learn.no_logging(): learn.fit_arch(1)
    assert Seen.ran and 'mae' in learn.recorder.metric_names and 'srcc' in learn.recorder.metric_names



def test_a_learner_without_a_folder_leaves_nothing_behind(tiny_lt_dls):
    import gc
    learn = iqa_learner(tiny_lt_dls, pretrained=False)        # fastai's path (the DataLoaders'), a scratch model_dir
    with learn.no_bar(), learn.no_logging(): learn.fit_arch(1)
    scratch = learn.path/learn.model_dir
    assert (scratch/'best.pth').exists() and learn.path == tiny_lt_dls.path
    del learn; gc.collect()
    assert not scratch.exists()

# -- a silent scale mismatch
def test_the_readme_loss_on_the_wrong_scale_is_an_error(tiny_lt_dls):
    wrong = WeightedMSELoss(BinWeights.from_scores(tiny_lt_dls.train_mos, 'pwb'))       # bins on 0-100, targets MOS/100
    with pytest.raises(InputError, match="BinWeights takes targets on MOS/1 but these DataLoaders give MOS/100"): iqa_learner(tiny_lt_dls, loss=wrong)
    learn = Learner(tiny_lt_dls, create_model('cnniqa'), loss_func=wrong)                # plain fastai: the first batch says so
    xb, yb = tiny_lt_dls.one_batch()
    with pytest.raises(InputError, match="they look like MOS/100; build the weights with target_scale=100"): wrong(learn.model(xb), yb)


def test_the_readme_loss_as_written_weighs_by_bin(tiny_lt_dls):
    right = WeightedMSELoss(BinWeights.from_scores(tiny_lt_dls.train_mos, 'pwb', target_scale=tiny_lt_dls.target_scale))
    learn = iqa_learner(tiny_lt_dls, loss=right)
    _, yb = tiny_lt_dls.one_batch()
    w = learn.loss_func.weights(yb)
    assert len(torch.unique(w)) > 1                                                     # not one weight for all
    expected = BinWeights.from_scores(tiny_lt_dls.train_mos, 'pwb')(yb * 100)
    assert torch.allclose(w, expected)


def test_every_loss_part_on_another_scale_is_refused(tiny_lt_dls):
    from koniq_lt.losses import BalancedMSELoss
    with pytest.raises(InputError, match="BalancedMSELoss takes targets on MOS/1 but these DataLoaders give MOS/100"):
        iqa_learner(tiny_lt_dls, loss=BalancedMSELoss('bni', train_mos=tiny_lt_dls.train_mos))
    with pytest.raises(InputError, match="give targets on MOS/100, not MOS/1"): iqa_learner(tiny_lt_dls, target_scale=1)


def test_options_that_would_be_ignored_are_refused(tiny_lt_dls):
    with pytest.raises(InputError, match="noise_sigma sets the start of Balanced MSE"): iqa_learner(tiny_lt_dls, loss='mse', noise_sigma=3)
    from koniq_lt.experiments import weight_params
    with pytest.raises(InputError, match="eps is given twice"): weight_params(dict(eps=0.05, weight_params={'eps': 0.01}))


def test_optimisers_as_names_classes_or_opt_funcs(tiny_lt_dls):
    from fastai.optimizer import Adam
    for opt in (torch.optim.AdamW, Adam):                                  # names: every model's default
        learn = iqa_learner(tiny_lt_dls, opt=opt, save_best=False)
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-4)
        assert np.isfinite(learn.recorder.values[-1]).all(), opt


# -- architecture choices in one place
def test_the_registry_lists_table_i_and_one_signature_builds_them():
    assert list_models() == TABLE_I
    assert model_config('nima_emd').targets == 'histogram' and model_config('dbcnn').stages
    for name in ('cnniqa', 'resnet50', 'tres', 'topiq'):
        out = create_model(name, pretrained=False, init_score=0.6).eval()(torch.zeros(2, 3, 64, 64))
        assert out.shape == (2, 1), name


def test_a_plain_module_registers_as_it_is(tiny_lt_dls):
    from fastai.data.core import DataLoaders
    class Plain(nn.Module):
        "No pretrained, weights, init_score or head: the mean colour and a linear layer."
        def __init__(self):
            super().__init__()
            self.score = nn.Linear(3, 1)
        def forward(self, x): return self.score(x.mean((2, 3)))
    register_model(Plain, name='plain_test_model', lr=1e-3, pretrained_backbone=False)
    register_model(Plain, name='plain_two_rates', lr=slice(1e-4, 1e-3), pretrained_backbone=False)
    users = DataLoaders(tiny_lt_dls.train, tiny_lt_dls.valid, device='cpu')          # DataLoaders that name no model
    kw = dict(train_mos=tiny_lt_dls.train_mos, target_scale=100, save_best=False)
    try:
        assert create_model('plain_test_model', pretrained=True)(torch.zeros(2, 3, 8, 8)).shape == (2, 1)
        learn = iqa_learner(users, 'plain_test_model', **kw)
        with learn.no_bar(), learn.no_logging(): learn.fit_arch(1)
        with pytest.raises(InputError, match="two learning rates .* form one group"): iqa_learner(users, 'plain_two_rates', **kw)
        learn = iqa_learner(users, 'plain_two_rates', splitter=lambda m: [[m.score.weight], [m.score.bias]], **kw)  # fastai's splitter
        learn.create_opt()
        assert len(learn.opt.param_groups) == 2
    finally:
        from koniq_lt.models.registry import _MODELS
        for n in ('plain_test_model', 'plain_two_rates'): _MODELS.pop(n, None)


def test_the_model_is_named_once(tiny_lt_dls):
    assert tiny_lt_dls.arch == 'cnniqa' and iqa_learner(tiny_lt_dls).iqa_config['arch'] == 'cnniqa'
    with pytest.raises(InputError, match="These DataLoaders were built for 'cnniqa'"): iqa_learner(tiny_lt_dls, 'resnet50')


def test_nima_emd_takes_its_histogram_targets_from_the_registry(tiny_demo, tmp_path):
    hist = with_rating_histograms(tiny_demo)
    d = iqa_dataloaders(hist, official_split(hist), 'nima_emd', size=(80, 80), crop=(75, 75), device='cpu', progress=False, cache_dir=tmp_path)
    assert d.targets == 'histogram' and d.one_batch()[1].shape[1] == 11


def test_shared_layers_live_in_one_place():
    import timm.data
    from koniq_lt.models import layers, tres, topiq
    assert layers.IMAGENET_MEAN == tuple(timm.data.IMAGENET_DEFAULT_MEAN) and layers.IMAGENET_STD == tuple(timm.data.IMAGENET_DEFAULT_STD)
    assert not hasattr(tres, 'PosEncoderLayer') and not hasattr(topiq, 'AttnLayer')
    blocks = lambda m: {type(x).__name__ for x in m.modules()}
    assert 'AttentionBlock' in blocks(create_model('tres', pretrained=False, backbone='resnet18.tv_in1k'))
    assert 'AttentionBlock' in blocks(create_model('topiq', pretrained=False))


def test_a_learner_on_a_users_datablock(tiny_demo):
    from fastai.vision.all import DataBlock, ImageBlock, RegressionBlock, ColReader, Resize, Normalize, imagenet_stats, RandomSplitter
    df = tiny_demo.assign(target=tiny_demo.MOS / 100)
    block = DataBlock((ImageBlock, RegressionBlock), get_x=ColReader('path'), get_y=ColReader('target'), item_tfms=Resize(48),
                      batch_tfms=Normalize.from_stats(*imagenet_stats), splitter=RandomSplitter(0.2, seed=0))
    user = block.dataloaders(df, bs=16, device='cpu', num_workers=0)
    train_mos = user.train.items.MOS.to_numpy()
    with pytest.raises(InputError, match="give arch"): iqa_learner(user)
    learn = iqa_learner(user, 'cnniqa', train_mos=train_mos, target_scale=100, weighting='pwb', save_best=False)
    with learn.no_bar(), learn.no_logging(): learn.fit_arch(1)
    assert np.isfinite(learn.recorder.values[-1]).all()


# -- a user's model through the learner, the sweep and the tables
CUSTOM = textwrap.dedent('''
    "A user's module registering a toy IQA model."
    from torch import nn
    from koniq_lt.models import register_model

    class MeanColourIQA(nn.Module):
        "The image's mean colour, then a linear score."
        def __init__(self, init_score: float = 0.5):
            super().__init__()
            self.head = nn.Linear(3, 1)
            nn.init.constant_(self.head.bias, init_score)
        def forward(self, x): return self.head(x.mean((2, 3)))

    @register_model(lr=1e-2, pretrained_backbone=False, reference='a toy for the tests')
    def mean_colour_iqa(init_score: float = 0.5): return MeanColourIQA(init_score)
''')


@pytest.mark.slow
def test_a_registered_model_trains_sweeps_and_tabulates(tmp_path, tiny_demo, monkeypatch):
    (tmp_path/'my_iqa_models.py').write_text(CUSTOM)
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_iqa_models  # noqa: F401  (registers mean_colour_iqa)
    d = iqa_dataloaders(tiny_demo, lt_split(tiny_demo), 'mean_colour_iqa', device='cpu', progress=False, cache_dir=tmp_path/'cache')
    learn = iqa_learner(d)
    with learn.no_bar(), learn.no_logging(): learn.fit_arch(1)
    # as a user runs it: the module in the working folder, named by --imports; each run a papermill kernel in its own folder
    done = subprocess.run([str(BIN/'koniq-lt-sweep'), '--runs', 'runs', '--dataset', 'demo:tiny', '--split', 'lt',
                           '--arch', 'mean_colour_iqa', '--method', 'mse+pwb', '--seed', '0', '--epochs', '1', '--full_run', 'False',
                           '--imports', 'my_iqa_models'], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = pd.read_csv(tmp_path/'runs'/'results.csv')
    assert len(results) == 1 and results.arch[0] == 'mean_colour_iqa' and results.weighting[0] == 'pwb'
    assert len(list((tmp_path/'runs').glob('*/experiment.ipynb'))) == 1               # the executed notebook, the run's record
    assert 'mean_colour_iqa' in (tmp_path/'runs'/'tables.txt').read_text()


def test_an_inline_sweep_runs_in_this_process(tmp_path):
    from koniq_lt.sweep import run_sweep
    configs = [dict(dataset='demo:tiny', arch='cnniqa', split='lt', loss='bmc', epochs=1, pretrained=False)]
    status = run_sweep(configs, tmp_path, runner='inline', verbose=False)   # run_experiment in this process, no kernel
    assert status.status.tolist() == ['done'] and not list(tmp_path.glob('*/experiment.ipynb'))
    row = pd.read_csv(next(tmp_path.glob('*/results.csv')))
    assert np.isfinite(row.noise_sigma[0]) and len(list(tmp_path.glob('*/*.png'))) == 4          # σ recorded; the four figures
    assert 'Better model found' in next(tmp_path.glob('*/run.log')).read_text()                 # fastai's lines: in the run's log
    assert run_sweep(configs, tmp_path, runner='inline', verbose=False).status.tolist() == ['skipped']
    with pytest.raises(InputError, match="Inline runs go one at a time"): run_sweep(configs, tmp_path, jobs=2, runner='inline')


# -- layers a newcomer can see
def test_layers_below_the_models_do_not_load_torch():
    "All of them imported into one interpreter: none loads torch (so neither does any one alone)."
    modules = ['core', 'mos', 'testsets', 'images', 'demo', 'split', 'metrics', 'analysis', 'tables', 'experiments', 'sweep', 'cluster', 'cli', 'explore']
    code = ''.join(f"import koniq_lt.{m}\n" for m in modules) + "import sys; assert 'torch' not in sys.modules, 'torch loaded'"
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_short_api():
    done = subprocess.run([sys.executable, '-c', "import sys, koniq_lt\nfrom koniq_lt import lt_split, bin_errors, read_mos_table\n"
                           "assert 'torch' not in sys.modules\nfrom koniq_lt import iqa_learner, iqa_dataloaders, create_model, run_experiment\n"
                           "assert 'torch' in sys.modules"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import koniq_lt, koniq_lt.losses
    assert all(hasattr(koniq_lt, n) for n in koniq_lt.__all__)
    assert not hasattr(koniq_lt.losses, 'sampling_weights')                       # sampling in one place: the dataloaders


def test_a_training_crop_leaves_a_whole_image_model_scored_on_whole_images():
    # CNNIQA has no crop of its own: given one, it trains on random crops but is validated (so its best epoch chosen) and
    # tested on whole images, its own protocol
    from koniq_lt.experiments import run_experiment
    from koniq_lt.learner import predict_table
    run = run_experiment(dict(dataset='demo:tiny', arch='cnniqa', loss='mse', crop=32, epochs=1, pretrained=False), progress=False)
    assert run.config['crop'] == (32, 32) and run.config['test_crops'] is None
    assert run.learn.dls.train.crop == (32, 32) and run.learn.dls.valid.crop is None
    whole = predict_table(run.learn, run.table, run.split, n_crops=None)
    assert np.allclose(whole.prediction, run.predictions.prediction, atol=1e-4)
    with pytest.raises(InputError, match="crop must be a side"): run_experiment(dict(dataset='demo:tiny', crop=True))
