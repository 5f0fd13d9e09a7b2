"Properties of the split functions on arbitrary score tables (hypothesis)."
import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st
from koniq_lt.split import lt_split, random_split, score_bins, split_bin_table

scores = st.lists(st.floats(0, 100), min_size=0, max_size=60)
tables = scores.map(lambda s: pd.DataFrame({'image_name': [f'im{i:03d}.jpg' for i in range(len(s))], 'MOS': s}))


@st.composite
def table_and_schedule(draw):
    table = draw(tables)
    n_bins = draw(st.integers(1, 25))
    schedule = draw(st.lists(st.floats(0, 1), min_size=n_bins, max_size=n_bins))
    return table, n_bins, schedule


@settings(max_examples=150, deadline=None)
@given(table_and_schedule(), st.integers(0, 2**32 - 1))
def test_lt_split_counts_are_rounded_proportions(args, seed):
    table, n_bins, schedule = args
    split = lt_split(table, schedule, n_bins, seed=seed)
    assert len(split) == len(table) and set(split.split) <= {'train', 'test'}
    n = np.bincount(score_bins(table.MOS, n_bins), minlength=n_bins)
    n_train = np.bincount(split.bin[split.split == 'train'].to_numpy(dtype=int), minlength=n_bins)
    assert (n_train == np.round(n*np.asarray(schedule))).all()
    assert (split_bin_table(split, n_bins).n_train.to_numpy() == n_train).all()


@settings(max_examples=60, deadline=None)
@given(tables, st.integers(0, 1000), st.randoms(use_true_random=False))
def test_lt_split_is_deterministic_and_ignores_row_order(table, seed, rnd):
    a = lt_split(table, seed=seed)
    assert a.equals(lt_split(table, seed=seed))
    order = list(range(len(table))); rnd.shuffle(order)
    b = lt_split(table.iloc[order], seed=seed)
    assert a.set_index('image_name').split.sort_index().equals(b.set_index('image_name').split.sort_index())


@settings(max_examples=60, deadline=None)
@given(tables, st.data())
def test_random_split_has_the_asked_size(table, data):
    n_train = data.draw(st.integers(0, len(table)))
    assert (random_split(table, n_train, seed=1).split == 'train').sum() == n_train
