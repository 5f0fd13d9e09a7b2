"Properties of the bin weights and weighted losses (hypothesis), and every loss and sampler training through fastai."
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn
from fastai.data.block import DataBlock, TransformBlock, RegressionBlock
from fastai.data.transforms import ColReader, ColSplitter
from fastai.learner import Learner, load_learner
import fastai.callback.progress  # noqa: F401  (Learner.no_bar)
from koniq_lt.losses import (BIN_WEIGHT_METHODS, BalancedMSELoss, BinWeights, NormInNormLoss, PLCCLoss, TrainLossParams,
                             WeightedL1Loss, WeightedMSELoss, bin_counts, bin_weights)
from koniq_lt.dataloaders import balanced_dataloaders, sampling_weights

mos_lists = st.lists(st.floats(0, 100), min_size=1, max_size=80)
n_bins = st.integers(2, 25)


@settings(max_examples=80, deadline=None)
@given(mos_lists, n_bins, st.sampled_from(BIN_WEIGHT_METHODS), st.randoms(use_true_random=False))
def test_bin_weights_ignore_sample_order_and_are_finite_positive(mos, k, method, rnd):
    w = bin_weights(mos, method, n_bins=k)
    shuffled = list(mos); rnd.shuffle(shuffled)
    np.testing.assert_allclose(bin_weights(shuffled, method, n_bins=k), w, rtol=1e-12)
    assert w.shape == (k,) and np.isfinite(w).all() and (w > 0).all()


@settings(max_examples=80, deadline=None)
@given(mos_lists, n_bins, st.sampled_from(['pwb_norm', 'inverse', 'sqrt_inv', 'lds', 'effective_number']))
def test_normalised_weights_have_mean_one_over_the_training_samples(mos, k, method):
    w = BinWeights(bin_weights(mos, method, n_bins=k))(torch.tensor(mos, dtype=torch.float64))
    assert abs(w.double().mean().item() - 1) < 1e-4


def _losses(weights):
    "Every bin-weightable loss with the given weight table."
    return [WeightedMSELoss(weights), WeightedL1Loss(weights), NormInNormLoss(weights), NormInNormLoss(weights, p=2, alpha=(1, 1)),
            PLCCLoss(weights)]

batches = st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.floats(-20, 120, width=32), min_size=n, max_size=n), st.lists(st.floats(0, 100, width=32), min_size=n, max_size=n)))


@settings(max_examples=100, deadline=None)
@given(batches, n_bins, st.floats(0.1, 50))
def test_equal_weights_give_the_unweighted_loss(batch, k, c):
    pred, targ = map(torch.tensor, batch)
    for weighted, plain in zip(_losses(BinWeights(np.ones(k))), _losses(None)):
        assert torch.allclose(weighted(pred, targ), plain(pred, targ), rtol=1e-5, atol=1e-6)
    for weighted, plain in zip(_losses(BinWeights(np.full(k, c))), _losses(None)):
        scale = 1 if isinstance(plain, PLCCLoss) else c          # PLCC is invariant to a common weight
        assert torch.allclose(weighted(pred, targ), scale * plain(pred, targ), rtol=1e-4, atol=1e-5)


@settings(max_examples=100, deadline=None)
@given(batches, st.sampled_from(['pwb', 'lds', 'sqrt_inv']))
def test_gradients_are_finite(batch, method):
    pred, targ = torch.tensor(batch[0], requires_grad=True), torch.tensor(batch[1])
    weights = BinWeights.from_scores(targ.numpy(), method)
    for loss in _losses(weights) + [BalancedMSELoss('bmc'), BalancedMSELoss('bni', train_mos=targ.numpy())]:
        pred.grad = None
        value = loss(pred, targ)
        value.backward()
        assert torch.isfinite(value) and torch.isfinite(pred.grad).all(), type(loss).__name__


@settings(max_examples=60, deadline=None)
@given(mos_lists, st.sampled_from(['inverse', 'sqrt_inv']), st.randoms(use_true_random=False))
def test_sampling_weights_follow_their_samples(mos, method, rnd):
    order = list(range(len(mos))); rnd.shuffle(order)
    w = sampling_weights(mos, method)
    np.testing.assert_allclose(sampling_weights([mos[i] for i in order], method), w[order])


# --- through fastai -------------------------------------------------------------------------------------------------
FEATURES = ['x0', 'x1', 'x2']

def get_features(row):
    "The feature vector of a row of the toy table."
    return torch.tensor(row[FEATURES].to_numpy(dtype=np.float32))


def toy_table(n=96, seed=0):
    "A long-tailed toy regression table: MOS skewed to the top, a linear function of the features plus noise."
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    mos = np.clip(70 + 10 * x @ np.array([1.0, -0.5, 0.3]) + rng.normal(0, 2, n), 0, 100)
    df = pd.DataFrame(x, columns=FEATURES).assign(MOS=mos, is_valid=np.arange(n) % 4 == 0)
    return df


def toy_dblock():
    return DataBlock(blocks=(TransformBlock, RegressionBlock), get_x=get_features, get_y=ColReader('MOS'),
                     splitter=ColSplitter('is_valid'))


def train_mos(df): return df.MOS[~df.is_valid].to_numpy()

LOSSES = {
    'mse': lambda df: WeightedMSELoss(),
    'mse_pwb': lambda df: WeightedMSELoss(BinWeights.from_scores(train_mos(df), 'pwb')),
    'l1_lds': lambda df: WeightedL1Loss(BinWeights.from_scores(train_mos(df), 'lds')),
    'norm_in_norm_pwb': lambda df: NormInNormLoss(BinWeights.from_scores(train_mos(df), 'pwb_norm')),
    'plcc_pwb': lambda df: PLCCLoss(BinWeights.from_scores(train_mos(df), 'pwb')),
    'balanced_mse_bmc': lambda df: BalancedMSELoss('bmc', init_sigma=8.0),
    'balanced_mse_bni': lambda df: BalancedMSELoss('bni', init_sigma=8.0, train_mos=train_mos(df)),
}
SAMPLERS = [None, 'inverse', 'sqrt_inv']


@pytest.mark.parametrize('loss_name', LOSSES)
def test_loss_trains_one_epoch_and_exports(loss_name, tmp_path):
    df = toy_table()
    dls = toy_dblock().dataloaders(df, bs=16)
    fit_export_reload(dls, LOSSES[loss_name](df), tmp_path)


@pytest.mark.parametrize('method', SAMPLERS[1:])
def test_balanced_sampler_trains_one_epoch_and_exports(method, tmp_path):
    df = toy_table()
    dls = balanced_dataloaders(toy_dblock(), df, df.MOS.to_numpy(), method, bs=16)
    np.random.seed(0)                                   # WeightedDL draws with numpy's global generator
    draws = np.concatenate([yb.numpy() for _ in range(20) for _, yb in dls.train])
    train_share, draw_share = (bin_counts(x) / len(x) for x in (train_mos(df), draws))
    crowded = train_share.argmax()
    assert draw_share[crowded] < 0.8 * train_share[crowded]                     # the crowded bin is drawn less
    assert set(np.flatnonzero(draw_share)) == set(np.flatnonzero(train_share))  # every populated bin, and only those
    if method == 'inverse':                                                     # all populated bins about equally
        populated = draw_share[train_share > 0]
        assert populated.max() < 2.5 * populated.min()
    fit_export_reload(dls, WeightedMSELoss(), tmp_path)


def fit_export_reload(dls, loss, tmp_path):
    "Fit a linear model one epoch with `loss`, export the learner, load it back and compare."
    torch.manual_seed(0)
    learn = Learner(dls, nn.Linear(3, 1), loss_func=loss, cbs=TrainLossParams(), lr=1e-2)
    sigma0 = loss.sigma.item() if hasattr(loss, 'sigma') else None
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    train_loss = learn.recorder.losses[-1]
    assert torch.isfinite(train_loss), train_loss
    if sigma0 is not None: assert loss.sigma.item() != sigma0            # σ was trained by TrainLossParams
    learn.export(tmp_path/'learner.pkl')
    back = load_learner(tmp_path/'learner.pkl')
    for (name, a), b in zip(learn.model.state_dict().items(), back.model.state_dict().values()): assert torch.equal(a, b), name
    for (name, a), b in zip(learn.loss_func.state_dict().items(), back.loss_func.state_dict().values()): assert torch.equal(a, b), name
    xb, yb = dls.valid.one_batch()
    assert torch.allclose(back.loss_func(back.model(xb), yb), learn.loss_func(learn.model(xb), yb))


def test_pwb_on_the_real_koniq_lt_training_split_is_eq1():
    from koniq_lt.mos import read_mos_table
    from koniq_lt.split import lt_split
    split = lt_split(read_mos_table(), seed=0)
    train = split.MOS[split.split == 'train'].to_numpy()
    p = np.bincount(np.minimum(train // 5, 19).astype(int), minlength=20) / len(train)   # per-bin train proportions
    for eps in (0.01, 0.05, 1e-4):
        np.testing.assert_allclose(bin_weights(train, 'pwb', eps=eps), 1 / (p + eps), rtol=1e-15)
    assert len(train) == 5777 and p[0] == 0 and p[18] == p[19] == 0
