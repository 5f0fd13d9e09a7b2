"""What the learner really trains with, against each method's reference formula written out here (never our own output):
every loss, every bin weighting as `iqa_learner` builds it, the sampler's drawn bin frequencies, LDS on the real split."""
import numpy as np
import pytest
import torch
from scipy.ndimage import convolve1d, gaussian_filter1d
from koniq_lt.mos import read_mos_table
from koniq_lt.dataloaders import iqa_dataloaders, split_rows
from koniq_lt.learner import iqa_learner
from koniq_lt.losses import BalancedMSELoss, NormInNormLoss, PLCCLoss, SumOfLosses, WeightedL1Loss, WeightedMSELoss, bin_weights
from koniq_lt.models.nima import EMDLoss
from koniq_lt.split import lt_split

# --- reference formulas, from the papers and their authors' code ------------------------------------------------------
def counts(mos, n_bins=20):
    "Training images per 5-point MOS bin (the last bin closed at 100)."
    return np.bincount(np.minimum(np.asarray(mos) // (100 / n_bins), n_bins - 1).astype(int), minlength=n_bins).astype(float)


def normalised(w, n):
    "Yang et al.'s `scaling`: weights rescaled to mean 1 over the training samples; empty bins take the largest weight."
    w = np.where(n > 0, w, np.nan)
    w = w / (np.nansum(w * n) / n.sum())
    return np.where(np.isnan(w), np.nanmax(w), w)


def lds_window(ks=5, sigma=2.0):
    "get_lds_kernel_window('gaussian', ks, sigma) of YyzHarry/imbalanced-regression (agedb-dir/utils.py)."
    base = [0.] * ((ks - 1) // 2) + [1.] + [0.] * ((ks - 1) // 2)
    return gaussian_filter1d(base, sigma=sigma) / max(gaussian_filter1d(base, sigma=sigma))


def reference_weights(method, mos, eps=0.01):
    "Per-bin weights of each method: the KonIQ-10k-LT paper's Eq. 1 (pwb), Yang et al.'s _prepare_weights, Cui et al.'s effective number."
    n = counts(mos)
    p = n / n.sum()
    with np.errstate(divide='ignore'):
        if method == 'pwb': return 1 / (p + eps)
        if method == 'pwb_norm': return normalised(1 / (p + eps), n)
        if method == 'inverse': return normalised(1 / np.clip(n, 5, 1000), n)
        if method == 'sqrt_inv': return normalised(1 / np.sqrt(n), n)
        if method == 'lds': return normalised(1 / convolve1d(np.sqrt(n), lds_window(), mode='constant'), n)   # --reweight sqrt_inv --lds
        if method == 'effective_number': return normalised((1 - 0.999) / (1 - 0.999 ** n), n)
        if method == 'none': return np.ones(20)
    raise ValueError(method)


def ref_nin(s, t, w):
    "Norm-in-Norm (LinearityIQA IQAloss.py, p=1, q=2, alpha=[1, 0]), each sample's |ŝ - t̂| weighted by w."
    s, t = s - s.mean(), t - t.mean()
    s, t = s / (1e-8 + np.linalg.norm(s)), t / (1e-8 + np.linalg.norm(t))
    return np.sum(w * np.abs(s - t)) / (2 * len(s) ** 0.5)


def ref_plcc(s, t, w):
    "(1 - r)/2 with r the w-weighted Pearson correlation."
    w = w / w.sum()
    cs, ct = s - np.sum(w * s), t - np.sum(w * t)
    return (1 - np.sum(w * cs * ct) / np.sqrt(np.sum(w * cs ** 2) * np.sum(w * ct ** 2))) / 2


def ref_bmc(s, t, var):
    "bmc_loss of jiawei-ren/BalancedMSE: cross-entropy of -(s_i - t_j)²/2σ² against the diagonal, times 2σ²."
    logits = -0.5 * (s[:, None] - t[None, :]) ** 2 / var
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return -np.mean(np.diag(logp)) * 2 * var


def ref_bni(s, t, var, centres, p):
    "bni_loss of jiawei-ren/BalancedMSE: (s - t)²/2σ² + log Σ_k p_k exp(-(s - c_k)²/2σ²), times 2σ², mean."
    keep = p > 0
    bal = np.log((p[keep][None] * np.exp(-0.5 * (s[:, None] - centres[keep][None]) ** 2 / var)).sum(1))
    return np.mean((s - t) ** 2 / (2 * var) + bal) * 2 * var


# --- the learner's losses (on `tiny_lt_dls`, conftest.py: the tiny demo's seed-0 LT split) ----------------------------
def known_batch(train_mos):
    "Targets (MOS/100) of 12 training images spread over the populated bins, predictions off by known amounts."
    mos = np.sort(np.asarray(train_mos))[np.linspace(0, len(train_mos) - 1, 12).astype(int)]
    pred = mos + np.linspace(-9, 7, 12) + 0.5 * np.sin(np.arange(12))
    return pred / 100, mos / 100, np.minimum(mos // 5, 19).astype(int)


@pytest.mark.parametrize('weighting', ['none', 'pwb', 'pwb_norm', 'inverse', 'sqrt_inv', 'lds', 'effective_number'])
@pytest.mark.parametrize('loss', ['mse', 'l1', 'norm_in_norm', 'plcc', 'mse_norm_in_norm'])
def test_learner_trains_with_the_reference_loss_and_weights(tiny_lt_dls, loss, weighting):
    learn = iqa_learner(tiny_lt_dls, 'cnniqa', loss=loss, weighting=weighting, save_best=False)
    s, t, k = known_batch(tiny_lt_dls.train_mos)
    w = reference_weights(weighting, tiny_lt_dls.train_mos)[k]
    expected = {'mse': lambda: np.mean(w * (s - t) ** 2), 'l1': lambda: np.mean(w * np.abs(s - t)),
                'norm_in_norm': lambda: ref_nin(s, t, w), 'plcc': lambda: ref_plcc(s, t, w),
                'mse_norm_in_norm': lambda: np.mean(w * (s - t) ** 2) + ref_nin(s, t, w)}[loss]()
    got = learn.loss_func(torch.tensor(s[:, None], dtype=torch.float32), torch.tensor(t[:, None], dtype=torch.float32))
    assert np.isclose(got.item(), expected, rtol=2e-4, atol=1e-9), (got.item(), expected)


def test_balanced_mse_and_emd_as_the_learner_builds_them(tiny_lt_dls):
    s, t, _ = known_batch(tiny_lt_dls.train_mos)
    st, tt = torch.tensor(s[:, None], dtype=torch.float32), torch.tensor(t[:, None], dtype=torch.float32)
    bmc = iqa_learner(tiny_lt_dls, 'cnniqa', loss='bmc', save_best=False).loss_func
    var = (1.5 / 100) ** 2                                      # σ starts at 1.5 MOS points (the demo has no rating SD)
    assert np.isclose(bmc(st, tt).item(), ref_bmc(s, t, var), rtol=1e-4)
    bni = iqa_learner(tiny_lt_dls, 'cnniqa', loss='bni', save_best=False).loss_func
    p = counts(tiny_lt_dls.train_mos) / len(tiny_lt_dls.train_mos)
    assert np.isclose(bni(st, tt).item(), ref_bni(s, t, var, (np.arange(20) * 5 + 2.5) / 100, p), rtol=1e-4)
    q = np.abs(np.sin(np.arange(30.))).reshape(3, 10); q /= q.sum(1, keepdims=True)
    r = np.full((3, 10), 0.1)
    ref_emd = np.mean(np.sqrt(np.mean((np.cumsum(r, 1) - np.cumsum(q, 1)) ** 2, 1)))   # NIMA's EMD, r = 2
    got = EMDLoss()(torch.tensor(np.c_[np.zeros(3), r]), torch.tensor(np.c_[np.zeros(3), q]))
    assert np.isclose(got.item(), ref_emd, rtol=1e-6)


@pytest.mark.parametrize('pred,targ', [([1., 2, 4], [0., 0, 0]), ([0.5, -1, 3, 2], [1., 1, 2, 0])])
def test_each_loss_on_numbers_worked_by_hand(pred, targ):
    "Unweighted losses on hand-computed numbers: MSE is the mean square, L1 the mean absolute error, and so on."
    p, t = np.array(pred), np.array(targ)
    pt, tt = torch.tensor(p), torch.tensor(t)
    assert np.isclose(WeightedMSELoss()(pt, tt).item(), np.mean((p - t) ** 2))
    assert np.isclose(WeightedL1Loss()(pt, tt).item(), np.mean(np.abs(p - t)))
    if t.std() > 0:
        assert np.isclose(NormInNormLoss()(pt, tt).item(), ref_nin(p, t, np.ones(len(p))), rtol=1e-6)
        assert np.isclose(PLCCLoss()(pt, tt).item(), (1 - np.corrcoef(p, t)[0, 1]) / 2, rtol=1e-6)
        assert np.isclose(SumOfLosses([WeightedMSELoss(), NormInNormLoss()])(pt, tt).item(),
                          np.mean((p - t) ** 2) + ref_nin(p, t, np.ones(len(p))), rtol=1e-6)
    assert np.isclose(WeightedMSELoss()(torch.tensor([1., 2, 4]), torch.zeros(3)).item(), 7.0)      # (1 + 4 + 16) / 3
    assert np.isclose(BalancedMSELoss('bmc', init_sigma=1.0)(pt, tt).item(), ref_bmc(p, t, 1.0), rtol=1e-5)


@pytest.mark.parametrize('method', ['pwb', 'inverse', 'sqrt_inv', 'lds', 'effective_number'])
def test_bin_weights_match_the_reference_on_the_real_lt_split(method):
    table = read_mos_table()
    train = lt_split(table, seed=0)
    mos = train.MOS[train.split == 'train'].to_numpy()
    populated = counts(mos) > 0                           # the references weigh the labels that occur (LDS: no others)
    np.testing.assert_allclose(bin_weights(mos, method)[populated], reference_weights(method, mos)[populated], rtol=1e-9)


def test_lds_spread_on_the_learners_koniq_lt_training_rows():
    """The populated-bin max/min LDS weight on the learner's seed-0 KonIQ-10k-LT training rows (the LT train set less its 10%
    validation carve): 14.4 with Yang et al.'s recipe (square roots, then smoothing); 112 when the raw counts are smoothed first."""
    table = read_mos_table()
    mos = table.MOS.to_numpy()[split_rows(table, lt_split(table, seed=0), 0.1, 0)['train']]
    populated = counts(mos) > 0
    spread = lambda w: w[populated].max() / w[populated].min()
    assert round(spread(bin_weights(mos, 'lds')), 1) == round(spread(reference_weights('lds', mos)), 1) == 14.4
    assert round(spread(bin_weights(mos, 'lds', lds_order='smooth_first', lds_reweight='inverse'))) == 112


# --- the sampler ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('method,power', [('inverse', 1.0), ('sqrt_inv', 0.5)])
def test_sampler_draws_bins_as_often_as_the_reference_says(method, power, tiny_demo, tmp_path):
    """Balanced sampling through `iqa_dataloaders`: bin k is drawn with probability ∝ n_k · n_k^-power (every populated bin
    equally for 'inverse', ∝ sqrt(n_k) for 'sqrt_inv'); 200 epochs of draws against those shares, and against plain shuffling."""
    dls = iqa_dataloaders(tiny_demo, lt_split(tiny_demo, seed=0), 'cnniqa', bs=16, device='cpu', sampling=method, progress=False,
                          cache_dir=tmp_path)
    n = counts(dls.train_mos)
    expected = np.where(n > 0, n ** (1 - power), 0); expected /= expected.sum()
    np.random.seed(0)
    drawn = np.concatenate([dls.train.get_idxs() for _ in range(200)])
    share = counts(dls.train_mos[drawn]) / len(drawn)
    assert np.abs(share - expected).max() < 0.02, (share.round(3), expected.round(3))
    assert np.abs(n / n.sum() - expected).max() > 0.05                   # the plain shuffle's shares are far from these
