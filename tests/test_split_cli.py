"""The koniq-lt-split console script on the real KonIQ-10k MOS table: acceptance numbers, determinism, no overwrite;
and as a process among others: two racing for one --out, a reader that closes the pipe early.
The seed-0 split and those come from the installed script; the other runs call its function in-process (`run_cli`)."""
import hashlib, os, subprocess, time
import numpy as np
import pandas as pd
import pytest
from conftest import BIN, ROOT, run_script
from koniq_lt.core import current_umask
from koniq_lt.split import koniq_lt_split

KONIQ = ROOT/'data'/'koniq10k_distributions_sets.csv'
# sha256 of `koniq-lt-split --seed 0` on the shipped table: the published split must never change silently.
SEED0_SHA256 = '2798a62dec6e1c8e100247ae12b8295de776114b9bbfae07128acf7477e08d71'


@pytest.fixture(scope='module')
def seed0(tmp_path_factory):
    out = tmp_path_factory.mktemp('seed0')/'split.csv'
    res = run_script('koniq-lt-split', '--out', out, '--seed', 0)
    assert res.returncode == 0, res.stderr
    return out, res.stdout


def test_every_row_assigned_with_rounded_bin_counts(seed0):
    out, _ = seed0
    split = pd.read_csv(out)
    koniq = pd.read_csv(KONIQ)
    assert list(split.columns[:4]) == ['image_name', 'MOS', 'bin', 'split']
    assert len(split) == 10073 and set(split.image_name) == set(koniq.image_name)
    assert set(split.split) == {'train', 'test'}
    # recompute each bin independently of the library: width-5 bins, p_k = 0.1 + 0.8 k / 19
    bins = np.minimum((koniq.set_index('image_name').MOS[split.image_name] // 5).astype(int), 19).to_numpy()
    assert (bins == split.bin.to_numpy()).all()
    p = 0.1 + 0.8*np.arange(20)/19
    n = np.bincount(bins, minlength=20)
    n_train = np.bincount(bins[split.split.to_numpy() == 'train'], minlength=20)
    assert (n_train == np.round(n*p)).all()
    assert np.abs(n_train - n*p).max() <= 0.5
    assert 5700 <= n_train.sum() <= 5850 and n_train.sum() == 5777


def test_seed0_split_is_the_published_one(seed0):
    digest = hashlib.sha256(seed0[0].read_bytes()).hexdigest()
    assert digest == SEED0_SHA256, ("the seed-0 KonIQ-10k-LT split changed: published results no longer match it; "
                                    "if the change is intended, say so in the changelog and update SEED0_SHA256")


def test_statistics_printed(seed0):
    _, stdout = seed0
    assert 'train 5,777 images, mean MOS 62.21' in stdout
    assert 'test  4,296 images, mean MOS 54.05' in stdout
    assert 'Wasserstein' in stdout and '[95, 100]' in stdout


def test_same_seed_same_bytes_other_seed_differs(seed0, tmp_path, run_cli):
    out, _ = seed0
    again, other = tmp_path/'again.csv', tmp_path/'other.csv'
    assert run_cli(koniq_lt_split, 'koniq-lt-split', '--out', again, '--seed', 0).returncode == 0
    assert run_cli(koniq_lt_split, 'koniq-lt-split', '--out', other, '--seed', 1).returncode == 0
    assert again.read_bytes() == out.read_bytes()
    a, b = pd.read_csv(out), pd.read_csv(other)
    assert (a.split != b.split).sum() > 1000               # a different assignment ...
    assert (a.groupby('bin').split.value_counts() == b.groupby('bin').split.value_counts()).all()  # ... same counts


def test_refuses_to_overwrite_without_force(seed0, tmp_path, run_cli):
    target = tmp_path/'precious.csv'
    target.write_text('do not touch\n')
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', target)
    assert res.returncode == 2
    assert "already exists; pass --force" in res.stderr and 'Traceback' not in res.stderr
    assert target.read_text() == 'do not touch\n'
    fig = tmp_path/'fig.png'
    fig.write_text('keep')
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/'new.csv', '--figure', fig)
    assert res.returncode == 2 and fig.read_text() == 'keep' and not (tmp_path/'new.csv').exists()
    target.chmod(0o600)
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', target, '--force')
    assert res.returncode == 0 and target.read_bytes() == seed0[0].read_bytes()
    assert target.stat().st_mode & 0o777 == 0o666 & ~current_umask()          # the umask's mode, as a plain open() gives
    assert sorted(p.name for p in tmp_path.iterdir()) == ['fig.png', 'precious.csv']   # no temporary files left


def test_kinds_and_figure(seed0, tmp_path, run_cli):
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/'r.csv', '--kind', 'random', '--figure', tmp_path/'f.png')
    assert res.returncode == 0, res.stderr
    r = pd.read_csv(tmp_path/'r.csv')
    assert (r.split == 'train').sum() == 5777                   # size-matched to the LT split
    assert abs(r.MOS[r.split == 'train'].mean() - r.MOS[r.split == 'test'].mean()) < 1.5
    assert (tmp_path/'f.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/'o.csv', '--kind', 'official')
    assert pd.read_csv(tmp_path/'o.csv').split.value_counts().to_dict() == {'train': 7058, 'test': 2015, 'valid': 1000}


def test_mirrored_schedule_reverses_the_skew(tmp_path, run_cli):
    assert run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/'m.csv', '--schedule', 'mirrored').returncode == 0
    m = pd.read_csv(tmp_path/'m.csv')
    assert m.MOS[m.split == 'train'].mean() < m.MOS[m.split == 'test'].mean()


def test_other_table_formats(write_table, tmp_path, run_cli):
    generic = write_table("file,rating\n" + ''.join(f"img{i}.png,{1 + 4*i/39:.4f}\n" for i in range(40)), 'generic.csv')
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/'g.csv', '--csv', generic, '--image_col', 'file',
                     '--score_col', 'rating', '--score_range', '1,5', '--bins', 4, '--schedule', '0.1,0.3,0.6,0.9')
    assert res.returncode == 0, res.stderr
    g = pd.read_csv(tmp_path/'g.csv')
    assert g.MOS.min() == 0 and g.MOS.max() == 100 and g.bin.max() == 3
    assert g.groupby('bin').split.apply(lambda s: (s == 'train').sum()).tolist() == [1, 3, 6, 9]
    scores = write_table("image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,MOS_zscore\n"
                         "a.jpg,0,0,.2,.7,.1,100,3.9,.5,77.4\nb.jpg,0,.5,.5,0,0,90,2.5,.5,30.0\n", 'scores.csv')
    res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/'s.csv', '--csv', scores)
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(tmp_path/'s.csv').MOS.tolist() == [77.4, 30.0]


def test_tiny_tables_with_empty_and_single_image_bins(write_table, tmp_path, run_cli):
    for i, text in enumerate(["image_name,MOS\na.jpg,50\n", "image_name,MOS\na.jpg,2\nb.jpg,97\nc.jpg,97.5\n"]):
        res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', tmp_path/f'{i}.csv', '--csv', write_table(text, f't{i}.csv'),
                         '--figure', tmp_path/f'{i}.png')
        assert res.returncode == 0, res.stderr
    assert pd.read_csv(tmp_path/'1.csv').split.tolist() == ['test', 'train', 'train']   # round(.1)=0, round(2*.9)=2


SMALL = "image_name,MOS\n" + ''.join(f"i{i}.jpg,{(i * 7919) % 1000 / 10}\n" for i in range(3000))


def _open_for_writing(fifo, proc, timeout=60):
    "Open `fifo` for writing once `proc` has opened it for reading (it reads its table); fails if `proc` ends first."
    start = time.monotonic()
    while True:
        try: fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:                                                   # ENXIO: no reader yet
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() - start < timeout, 'the script never read its table'
            time.sleep(0.01); continue
        os.set_blocking(fd, True)
        return os.fdopen(fd, 'w')


def test_two_splits_racing_for_one_out_one_wins(tmp_path, write_table, run_cli):
    """Two koniq-lt-split processes write one --out at once, without --force: exactly one exits 0, the other refuses
    in one sentence, and the file is the winner's. Each reads its table from a FIFO, fed only once both wait on
    theirs, so both are past their start-up and their own checks of --out before either writes."""
    fifos = [tmp_path/f'table{k}.csv' for k in (0, 1)]
    for f in fifos: os.mkfifo(f)
    out = tmp_path/'split.csv'
    procs = [subprocess.Popen([str(BIN/'koniq-lt-split'), '--csv', f, '--out', out, '--seed', str(k)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k, f in enumerate(fifos)]
    try:
        feeds = [_open_for_writing(f, p) for f, p in zip(fifos, procs)]
        for feed in feeds: feed.write(SMALL)
        for feed in feeds: feed.close()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs: p.kill() if p.poll() is None else None
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], results
    winner, loser = codes.index(0), codes.index(2)
    assert results[loser][1].strip() == f"koniq-lt-split: error: '{out}' already exists; pass --force (force=True) to overwrite it."
    same = tmp_path/'same.csv'
    assert run_cli(koniq_lt_split, 'koniq-lt-split', '--csv', write_table(SMALL, 'small.csv'), '--out', same, '--seed', winner).returncode == 0
    assert out.read_bytes() == same.read_bytes()                           # the winner's split, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ['same.csv', 'small.csv', 'split.csv', 'table0.csv', 'table1.csv']


def test_closed_pipe_is_a_quiet_exit(tmp_path, write_table):
    "`koniq-lt-split ... | head -1`: the reader is gone before the script prints; it exits 141 with nothing on stderr."
    out = tmp_path/'split.csv'
    proc = subprocess.Popen([str(BIN/'koniq-lt-split'), '--csv', write_table(SMALL), '--out', out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    err = proc.stderr.read(); proc.wait(timeout=120); proc.stderr.close()
    assert (proc.returncode, err) == (141, ''), err
    assert len(pd.read_csv(out)) == 3000                                    # the split was written before the statistics


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes into read-only folders')
def test_read_only_folder_writes_nothing(tmp_path, write_table, run_cli):
    locked = tmp_path/'locked'
    locked.mkdir(); locked.chmod(0o555)
    try: res = run_cli(koniq_lt_split, 'koniq-lt-split', '--csv', write_table(SMALL), '--out', tmp_path/'split.csv',
                       '--figure', locked/'fig.png')
    finally: locked.chmod(0o755)
    assert res.returncode == 2
    assert res.stderr.strip() == (f"koniq-lt-split: error: '{locked/'fig.png'}' cannot be written: folder '{locked}' takes no "
                                  "new files (Permission denied).")
    assert sorted(p.name for p in tmp_path.iterdir()) == ['locked', 'table.csv'] and not any(locked.iterdir())
