"""Shared helpers for the pytest suite: run the installed console scripts (or their functions in-process), write small CSV
tables, check one-sentence error messages, and the demo datasets (and DataLoaders of the tiny one) loaded once per session."""
import shutil, subprocess, sys
import numpy as np
from pathlib import Path
from types import SimpleNamespace
import pytest
from fastcore.script import anno_parser

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def run_script(name, *args, cwd=None):
    "Run the installed console script `name` with `args`; returns the CompletedProcess (text output)."
    return subprocess.run([str(BIN/name), *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run a console script's function in this process, its arguments parsed as the script parses them (a script
    process takes seconds to start on 2 cores); returns returncode, stdout and stderr like `run_script`."""
    def _run(main, name, *args):
        monkeypatch.setattr(sys, 'argv', [name, *map(str, args)])
        parsed = vars(anno_parser(main).parse_args())
        parsed.pop('pdb', None); parsed.pop('xtra', None)
        capsys.readouterr()
        try: main.__wrapped__(**parsed); code = 0                     # the function under @call_parse
        except SystemExit as stop: code = stop.code
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
    return _run


@pytest.fixture
def write_table(tmp_path):
    "Write CSV text to a file in tmp_path and return its path."
    def _write(text, name='table.csv'):
        path = tmp_path/name
        path.write_text(text)
        return path
    return _write


def with_rating_histograms(table):
    "`table` with KonIQ-style c1..c5 rating shares: a discretised normal around each image's MOS on the 1-5 scale."
    levels = np.arange(1, 6)
    w = np.exp(-0.5 * ((levels[None] - (1 + 4 * table.MOS.to_numpy()[:, None] / 100)) / 0.7) ** 2)
    return table.assign(**{f'c{k}': w[:, k - 1] / w.sum(1) for k in levels})


def one_sentence(excinfo):
    "The message of a raised InputError, checked to be one line ending in a full stop."
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1 and message.endswith('.'), message
    return message


# The demo tables are read once per session; tests derive new frames from them (`assign`, `with_rating_histograms`)
# and never change them in place.
@pytest.fixture(scope='session')
def tiny_demo():
    "The 'tiny' demo (164 Kodak-derived images, 72x48) as a MOS table with image paths."
    from koniq_lt.demo import read_demo
    return read_demo('tiny')


@pytest.fixture(scope='session')
def ci_demo():
    "The 'ci' demo (984 images) as a MOS table with image paths."
    from koniq_lt.demo import read_demo
    return read_demo('ci')


@pytest.fixture(scope='session')
def tiny_lt_dls(tiny_demo, tmp_path_factory):
    "CNNIQA DataLoaders (CPU, bs 16) of the tiny demo's seed-0 LT split."
    from koniq_lt.dataloaders import iqa_dataloaders
    from koniq_lt.split import lt_split
    return iqa_dataloaders(tiny_demo, lt_split(tiny_demo, seed=0), 'cnniqa', bs=16, device='cpu', progress=False,
                           cache_dir=tmp_path_factory.mktemp('cache'))


@pytest.fixture(scope='session')
def quickstart(tmp_path_factory):
    "The README's main job run once, as the README runs it (`koniq-lt-quickstart`, no options): its result and its folder."
    cwd = tmp_path_factory.mktemp('quickstart')
    res = run_script('koniq-lt-quickstart', cwd=cwd)
    runs = list((cwd/'runs').glob('quickstart-*'))
    return res, (runs[0] if len(runs) == 1 else cwd/'runs')


@pytest.fixture
def small_disk(tmp_path, request):
    "A small tmpfs (2 MB, or the size given by indirect parametrisation) mounted on a folder; skipped where mounting fails (needs root and CAP_SYS_ADMIN)."
    folder = tmp_path/'small'
    folder.mkdir()
    if not shutil.which('mount'): pytest.skip("cannot mount a tmpfs here: there is no 'mount' command")
    mount = subprocess.run(['mount', '-t', 'tmpfs', '-o', f"size={getattr(request, 'param', '2m')}", 'tmpfs', str(folder)], capture_output=True, text=True)
    if mount.returncode: pytest.skip(f"cannot mount a tmpfs here: {(mount.stderr or mount.stdout).strip() or mount.returncode}")
    try: yield folder
    finally:   # lazily if a memory map still holds it: the mount goes when the map is closed
        if subprocess.run(['umount', str(folder)], capture_output=True).returncode: subprocess.run(['umount', '-l', str(folder)], check=True)
