"""Score-bin error analysis (koniq_lt.analysis) beyond 06_analysis's own tests: the MAE interval's level and confidence,
balanced and per-region metrics in edge cases, Gap's sign, split columns, bad prediction tables through every entry point,
figure files, the worst predictions and their images."""
import re, warnings
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from conftest import one_sentence
from koniq_lt.analysis import (bin_errors, gap, plot_bin_errors, plot_scatter, save_figure, show_worst, shot_regions, summary_metrics,
                               worst_predictions)
from koniq_lt.core import InputError
from koniq_lt.metrics import ConstantScoresWarning, iqa_metrics

# Four bins over 0-100: [0, 25) [25, 50) [50, 75) [75, 100].
# errors (prediction - MOS): bin 0: +10, -6, +2 · bin 1: none · bin 2: -8 · bin 3: -10, -4
PRED = pd.DataFrame({'image_name': list('abcdef'), 'MOS': [10, 20, 15, 60, 80, 90.], 'prediction': [20, 14, 17, 52, 70, 86.]})
TRAIN_MOS = [30, 40, 45, 55, 60, 70, 80, 99]           # per bin: 0, 3, 3, 2
SMALL = dict(n_bins=4, many=2, few=1)                  # many-shot > 2, few-shot < 1: bins few, many, many, medium


def test_interval_contains_mae_and_widens_with_confidence():
    rng = np.random.default_rng(5)
    mos = rng.uniform(50, 75, 60)
    pred = pd.DataFrame({'image_name': [f'{i}.jpg' for i in range(60)], 'MOS': mos, 'prediction': mos + rng.normal(0, 8, 60)})
    a, again = bin_errors(pred, n_bins=4), bin_errors(pred, n_bins=4)
    assert a.mae_low[2] < a.mae[2] < a.mae_high[2]
    assert (a.mae_low[2], a.mae_high[2]) == (again.mae_low[2], again.mae_high[2])
    wider = bin_errors(pred, n_bins=4, confidence=0.99)
    assert wider.mae_high[2] - wider.mae_low[2] > a.mae_high[2] - a.mae_low[2]


@pytest.mark.parametrize('n', [2, 5, 17])
def test_mae_interval_keeps_its_level_in_small_bins(n):
    """A nominal 95% interval of a bin's MAE covers the true MAE in at least 90% of simulated bins of n images (normal
    errors of SD 6: the true MAE is 6·sqrt(2/π)). The percentile bootstrap covers about 48%, 82% and 93% at n = 2, 5, 17 (06_analysis simulates it)."""
    rng = np.random.default_rng(n)
    reps, n_bins = 60, 20                                  # 60 tables of 20 bins of n test images each: 1,200 intervals
    true_mae = 6 * np.sqrt(2 / np.pi)
    hits = 0
    for _ in range(reps):
        mos = np.repeat(np.arange(n_bins) * 5 + 2.5, n)
        pred = pd.DataFrame({'image_name': [f'{i}.jpg' for i in range(len(mos))], 'MOS': mos, 'prediction': mos + rng.normal(0, 6, len(mos))})
        b = bin_errors(pred)
        hits += int(((b.mae_low <= true_mae) & (true_mae <= b.mae_high)).sum())
    coverage = hits / (reps * n_bins)
    assert coverage >= 0.90, coverage


def test_shot_regions_with_equal_custom_thresholds():
    "many == few: below it few-shot, at it medium, above it many-shot (06_analysis tests unequal custom thresholds)."
    assert shot_regions([1, 2, 3], many=2, few=2).tolist() == ['few', 'medium', 'many']


def test_balanced_equals_plain_when_bins_are_equal():
    pred = pd.DataFrame({'image_name': list('abcd'), 'MOS': [10, 20, 60, 70.], 'prediction': [14, 18, 61, 79.]})
    s = summary_metrics(pred, n_bins=2)
    np.testing.assert_allclose([s.bmae, s.brmse], [s.mae, s.rmse])


def test_region_maes():
    s = summary_metrics(PRED, TRAIN_MOS, **SMALL)
    np.testing.assert_allclose(s[['mae_many', 'mae_medium', 'mae_few']], [8, 7, 6])
    assert s[['n_many', 'n_medium', 'n_few']].tolist() == [1, 2, 3]
    no_train = summary_metrics(PRED, n_bins=4)
    assert no_train[['mae_many', 'mae_medium', 'mae_few', 'n_many', 'n_medium', 'n_few']].isna().all()
    no_many = summary_metrics(PRED, TRAIN_MOS, n_bins=4, many=3, few=3)     # bins few, medium, medium, few
    assert np.isnan(no_many.mae_many) and no_many.n_many == 0
    np.testing.assert_allclose(no_many[['mae_medium', 'mae_few', 'n_medium', 'n_few']], [8, (18 + 14)/5, 1, 5])


def test_gap_values_and_sign():
    g = gap({'plcc': .936, 'srcc': .920}, pd.Series({'plcc': .896, 'srcc': .845}))      # MANIQA, Table I
    np.testing.assert_allclose(g[['plcc', 'srcc']], [.040, .075])
    assert gap(pd.DataFrame([{'rmse': 7.0}]), {'rmse': 9.5}, metrics='rmse').rmse == pytest.approx(-2.5)
    assert gap({'plcc': .8}, {'plcc': .85}, 'plcc').plcc < 0                               # better on LT: negative
    with pytest.raises(InputError) as e: gap({'plcc': .9}, {'srcc': .8}, 'plcc')
    assert "LT-split results have no 'plcc'" in one_sentence(e)


def test_only_test_rows_of_a_split_column_are_analysed():
    train_rows = PRED.assign(split='train', prediction=PRED.MOS + 50)
    both = pd.concat([PRED.assign(split='test'), train_rows, PRED.assign(split='valid', prediction=0.)])
    pd.testing.assert_frame_equal(bin_errors(both, TRAIN_MOS, **SMALL), bin_errors(PRED, TRAIN_MOS, **SMALL))
    pd.testing.assert_series_equal(summary_metrics(both, TRAIN_MOS, **SMALL), summary_metrics(PRED, TRAIN_MOS, **SMALL))
    assert worst_predictions(both, n_bins=4).abs_error.max() == 10        # the train rows' errors are 50


@pytest.mark.parametrize('bad,phrase', [
    (PRED.drop(columns='prediction'), "The prediction table has no column 'prediction'"),
    (PRED.drop(columns='MOS'), "The prediction table has no column 'MOS'"),
    (PRED.assign(prediction=[20, np.nan, 17, 52, np.nan, 86]), "column 'prediction' is NaN or not a number in 2 of the 6 rows analysed (first: image 'b')"),
    (pd.concat([PRED, PRED.iloc[[4]]]), "column 'image_name' lists 'e' 2 times among the rows analysed"),
    (PRED.assign(MOS=[10, 20, np.nan, 60, 80, 90]), "column 'MOS' is NaN"),
    (PRED.assign(prediction=[20, np.inf, 17, 52, 70, -np.inf]), "column 'prediction' is infinite in 2 of the 6 rows analysed (first: image 'b')."),
    (PRED.assign(MOS=[10, 20, 15, 60, np.inf, 90]), "column 'MOS' is infinite in 1 of the 6 rows analysed (first: image 'e')."),
    (PRED.assign(split='train'), "column 'split' has no 'test' rows"),
    (PRED.assign(MOS=PRED.MOS * 2), "column 'MOS' has 3 values outside the score range [0, 100]"),
    (PRED.assign(MOS=PRED.MOS / 20, prediction=PRED.prediction / 20), "looks like a 1-5 scale"),
    (PRED.assign(prediction=PRED.prediction / 100), "multiply 0-1 outputs by 100"),
])
def test_bad_prediction_tables_are_one_sentence(bad, phrase):
    for analyse in (lambda: bin_errors(bad, n_bins=4), lambda: summary_metrics(bad, n_bins=4), lambda: plot_scatter(bad)):
        with pytest.raises(InputError) as e: analyse()
        assert phrase in one_sentence(e)


@pytest.mark.parametrize('mos,pred,note', [
    ([10, 20, 15, 60, 80, 90], [50] * 6, "All 6 predictions equal 50, so PLCC, SRCC and KRCC are undefined (NaN)."),
    ([70] * 6, [20, 14, 17, 52, 70, 86], "All 6 subjective scores (MOS) equal 70, so PLCC, SRCC and KRCC are undefined (NaN)."),
    ([70], [60], "There is only 1 score, so PLCC, SRCC and KRCC are undefined (NaN)."),
])
def test_constant_scores_give_nan_correlations_with_one_warning(mos, pred, note):
    table = pd.DataFrame({'image_name': list('abcdef')[:len(mos)], 'MOS': np.array(mos, float), 'prediction': np.array(pred, float)})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        s = summary_metrics(table, TRAIN_MOS, **SMALL)                    # 4 bins: no warning per bin
        bin_errors(table, TRAIN_MOS, n_bins=20)
    assert [(w.category, str(w.message)) for w in seen] == [(ConstantScoresWarning, note)]
    assert s[['plcc', 'srcc', 'krcc']].isna().all() and s[['rmse', 'mae', 'bmae']].notna().all()   # recorded, not refused
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert np.isnan(iqa_metrics(mos, pred, warn=False).plcc)


def test_infinite_scores_are_refused_by_iqa_metrics():
    with pytest.raises(InputError) as e: iqa_metrics([10, 20, 30], [12, np.inf, 31])
    assert one_sentence(e) == "1 of the 3 predictions are infinite."
    with pytest.raises(InputError) as e: iqa_metrics([10, -np.inf, 30], [12, 18, 31])
    assert one_sentence(e) == "1 of the 3 subjective scores (MOS) are infinite."


def test_save_figure_refuses_to_overwrite(tmp_path):
    fig = plot_bin_errors(bin_errors(PRED, n_bins=4))
    path = save_figure(fig, tmp_path/'bins.png')
    size = path.stat().st_size
    assert size > 5_000
    with pytest.raises(InputError) as e: save_figure(plot_scatter(PRED), path)
    assert f"'{path}' already exists" in one_sentence(e)
    assert path.stat().st_size == size                       # untouched
    save_figure(plot_scatter(PRED), path, force=True)
    assert path.stat().st_size != size
    save_figure(fig, tmp_path/'bins.pdf')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bins.pdf', 'bins.png']   # no temporary files left


def test_worst_predictions_order():
    w = worst_predictions(PRED, k=4, n_bins=4)
    assert w.image_name.tolist() == ['a', 'e', 'd', 'b']     # |10|, |-10| (table order on a tie), |-8|, |-6|
    assert w.error.tolist() == [10, -10, -8, -6] and w.abs_error.tolist() == [10, 10, 8, 6]
    assert w.bin.tolist() == [0, 3, 2, 0]
    assert worst_predictions(PRED, bin=0, n_bins=4).image_name.tolist() == ['a', 'b', 'c']
    assert len(worst_predictions(PRED, k=100, n_bins=4)) == 6
    with pytest.raises(InputError) as e: worst_predictions(PRED, bin=1, n_bins=4)
    assert 'MOS bin 1 [25, 50) has no test images' in one_sentence(e)


@pytest.fixture(scope='module')
def tiny_predictions(tiny_demo):
    "The tiny demo and SYNTHETIC predictions of it: MOS pulled 40% toward the mean, plus noise."
    demo = tiny_demo
    noise = np.random.default_rng(0).normal(0, 6, len(demo))
    pred = demo[['image_name', 'MOS']].assign(prediction=(demo.MOS + 0.4*(demo.MOS.mean() - demo.MOS) + noise).clip(0, 100))
    return demo, pred


def test_show_worst_on_the_tiny_demo(tiny_predictions):
    demo, pred = tiny_predictions
    fig = show_worst(pred, demo, k=6, ncols=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 6 and all(len(ax.images) == 1 for ax in fig.axes)
    worst = worst_predictions(pred, k=6)
    info = demo.set_index('image_name')
    assert [ax.get_title() for ax in fig.axes] == [f"{n}\n{info.distortion[n]} {info.level[n]}\nMOS {m:.1f} · pred {p:.1f}"
                                                  for n, m, p in zip(worst.image_name, worst.MOS, worst.prediction)]
    bare = show_worst(pred, demo[['image_name', 'path']], k=2)                 # a table without distortions: name, MOS, prediction
    assert all(re.fullmatch(r'\S+\.jpg\nMOS \d+\.\d · pred \d+\.\d', ax.get_title()) for ax in bare.axes)


def test_show_worst_bad_input(tiny_predictions):
    demo, pred = tiny_predictions
    empty = int(np.flatnonzero(np.bincount(np.searchsorted(np.linspace(0, 100, 21)[1:-1], demo.MOS, side='right'), minlength=20) == 0)[0])
    with pytest.raises(InputError) as e: show_worst(pred, demo, bin=empty)
    assert f'MOS bin {empty} ' in one_sentence(e)
    with pytest.raises(InputError) as e: show_worst(pred, demo.drop(columns='path'))
    assert "no column 'path'" in one_sentence(e)
    with pytest.raises(InputError) as e: show_worst(pred, demo.iloc[:3])
    assert "is not in the image table's column 'image_name'" in one_sentence(e)
