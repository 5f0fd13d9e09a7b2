"""`koniq-lt-sweep` killed, interrupted, run twice at once, or given a run that fails: no run is lost, none is trained
twice, no process of a killed sweep lives on, and the exit status says what happened."""
import os, signal, subprocess, time
from pathlib import Path
import numpy as np
import pandas as pd
import pytest
from conftest import BIN, run_script
from koniq_lt.cli import koniq_lt_sweep

ARGS = ['--split', 'lt', '--method', 'mse,mse+pwb:0.05', '--seed', '0', '--full_run', 'False', '--dataset', 'demo:ci']


def descendants(pid: int) -> set:
    "The processes below `pid` (children, grandchildren, ...), from /proc."
    parents = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try: fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError: continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found: found.add(child); todo.append(child)
    return found


def alive(pid: int) -> bool:
    "Whether `pid` is a running process (not a zombie)."
    try: return Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False


def wait_for(condition, seconds=300, process=None):
    "Poll `condition()` every 0.2 s until it holds; fails after `seconds` or when `process` ended first."
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        assert process is None or process.poll() is None, process.communicate()
        time.sleep(0.2)


def start_sweep(runs, *args, cwd):
    "`koniq-lt-sweep` as a terminal starts it: Ctrl-C (SIGINT) not ignored, even when the tests run in a shell's background job."
    return subprocess.Popen([str(BIN/'koniq-lt-sweep'), '--runs', str(runs), *ARGS, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow
@pytest.mark.skipif(not Path('/proc/self/stat').exists(), reason="the process tree is read from /proc (Linux)")
def test_a_killed_sweep_leaves_no_process_and_the_rerun_finishes_each_run_once(tmp_path):
    runs = tmp_path/'runs'
    sweep = start_sweep(runs, cwd=tmp_path)                                   # papermill: a child and its kernel per run
    wait_for(lambda: len(list(runs.glob('*/done.json'))) == 1 and len(list(runs.glob('*/experiment.ipynb'))) == 2, process=sweep)
    wait_for(lambda: len(descendants(sweep.pid)) >= 2, process=sweep)          # the second run's papermill and kernel
    children = descendants(sweep.pid)
    os.kill(sweep.pid, signal.SIGKILL)                                         # the sweep alone, as `kill -9 <pid>` does
    sweep.communicate()
    wait_for(lambda: not any(alive(p) for p in children), seconds=15)          # its children followed it
    (first,) = [p.parent for p in runs.glob('*/done.json')]
    first_mtime = (first/'results.csv').stat().st_mtime_ns
    (second,) = [p for p in runs.iterdir() if p.is_dir() and p != first]
    assert not (second/'done.json').exists()

    res = run_script('koniq-lt-sweep', '--runs', runs, *ARGS, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert 'Sweep of 2 runs' in res.stdout and '(1 already finished)' in res.stdout, res.stdout
    assert f"done    {second.name}" in res.stdout and "run again: it has no completion record (done.json): the run did not finish" in res.stdout
    assert f"skipped {first.name}" in res.stdout and (first/'results.csv').stat().st_mtime_ns == first_mtime   # not redone
    results = pd.read_csv(runs/'results.csv')
    assert sorted(results.run) == sorted([first.name, second.name])             # each run exactly once
    assert sorted(results.weighting) == ['none', 'pwb'] and np.isfinite(results[['plcc', 'srcc', 'bmae']]).all().all()
    assert 'Table II — DEMO results' in (runs/'tables.txt').read_text()


@pytest.mark.slow
def test_two_sweeps_on_one_folder_train_each_run_once(tmp_path):
    runs = tmp_path/'runs'
    sweeps = [start_sweep(runs, '--runner', 'inline', '--seed', '0,1', cwd=tmp_path) for _ in range(2)]
    outputs = [s.communicate(timeout=600) for s in sweeps]
    for s, (out, err) in zip(sweeps, outputs): assert s.returncode == 0, out + err
    trained = [line.split()[2] for out, _ in outputs for line in out.splitlines() if line.split()[1:2] == ['done']]
    assert len(trained) == 4 and len(set(trained)) == 4, [o for o, _ in outputs]     # every run trained, by one sweep only
    assert len(pd.read_csv(runs/'results.csv')) == 4
    assert sum('finished by another process' in out or 'busy' in out for out, _ in outputs) >= 1


@pytest.mark.slow
@pytest.mark.parametrize('runner', [['--runner', 'inline'], ['--runner', 'papermill', '--jobs', '2']], ids=['inline', 'papermill-jobs2'])
def test_ctrl_c_stops_the_sweep_and_says_what_finished(runner, tmp_path):
    runs = tmp_path/'runs'
    sweep = start_sweep(runs, *runner, cwd=tmp_path)
    started = 'run.log' if 'inline' in runner else 'experiment.ipynb'
    wait_for(lambda: len(list(runs.glob(f'*/{started}'))) == (1 if 'inline' in runner else 2), process=sweep)   # training
    if 'inline' not in runner: wait_for(lambda: len(descendants(sweep.pid)) >= 4, process=sweep)   # two papermills, two kernels
    children = descendants(sweep.pid)
    sweep.send_signal(signal.SIGINT)                           # as Ctrl-C does, to the sweep alone
    out, err = sweep.communicate(timeout=60)
    assert sweep.returncode == 130, out + err
    assert 'Traceback' not in err and err.strip().splitlines()[-1] == 'koniq-lt-sweep: interrupted.', err   # (after fastai's import warning)
    assert "Interrupted: 0 of 2 runs are finished" in out and "the same command runs the other 2" in out, out
    assert ' failed ' not in out, out                          # runs it stopped itself are not failures
    assert not list(runs.glob('*/done.json'))
    wait_for(lambda: not any(alive(p) for p in children), seconds=15)


def test_a_failed_run_makes_the_exit_status_non_zero(tmp_path, run_cli, monkeypatch):
    import koniq_lt.experiments
    calls = []
    def broken(config, **kw):
        calls.append(config['weighting'])
        if config['weighting'] == 'pwb': raise RuntimeError("the GPU fell off")
        return real(config, **kw)
    real = koniq_lt.experiments.run_experiment
    monkeypatch.setattr(koniq_lt.experiments, 'run_experiment', broken)
    res = run_cli(koniq_lt_sweep, 'koniq-lt-sweep', '--runs', tmp_path/'runs', '--runner', 'inline', '--epochs', 1, *ARGS[:-2], '--dataset', 'demo:tiny',
                  '--results', tmp_path/'all.csv')
    assert calls == ['none', 'pwb'] and res.returncode == 1, res.stdout + res.stderr
    assert pd.read_csv(tmp_path/'all.csv').weighting.tolist() == ['none']              # --results: the runs that finished
    assert "1 run failed (tracebacks in their run.log): lt-cnniqa-mse+pwb:0.05" in res.stdout
    assert "RuntimeError: the GPU fell off" in res.stdout and 'Table II' in res.stdout   # the tables of the runs that finished
    assert "are not finished runs and are not in the tables: lt-cnniqa-mse+pwb:0.05" in res.stdout


@pytest.mark.parametrize('args, words', [
    (['--arch', 'alexnet'], "The model 'alexnet' is not registered"),
    (['--bs', '0'], "bs must be a whole number of at least 1, not 0."),
    (['--epochs', '-1'], "epochs must be a whole number of at least 1, not -1."),
    (['--split', 'balanced'], "The split 'balanced' is not one of"),
    (['--seed', '-1'], "seed must be a whole number from 0 to 4294967295, not -1."),
    (['--on', 'garbage'], "must be one of own, shared, not 'garbage'"),
    (['--gpus', '999'], "There is no GPU 999 (--gpus)"),
])
def test_every_option_is_checked_before_the_first_run(args, words, tmp_path, run_cli):
    res = run_cli(koniq_lt_sweep, 'koniq-lt-sweep', '--runs', tmp_path/'runs', *ARGS, *args)
    assert res.returncode == 2 and res.stderr.startswith('koniq-lt-sweep: error: '), res.stdout + res.stderr
    assert words in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not (tmp_path/'runs').exists()                                      # nothing ran


@pytest.mark.parametrize('small_disk', ['512k'], indirect=True)
def test_a_run_on_a_full_disk_fails_in_one_sentence_and_leaves_no_temporary(small_disk, run_cli):
    runs = small_disk/'runs'                                   # a 512 kB disk: the run's image cache (1.7 MB) cannot fit
    res = run_cli(koniq_lt_sweep, 'koniq-lt-sweep', '--runs', runs, '--runner', 'inline', '--epochs', 1, *ARGS[:-2], '--method', 'mse', '--dataset', 'demo:tiny')
    assert res.returncode == 1 and "No run in" in res.stdout and "is finished: no tables." in res.stdout, res.stdout + res.stderr
    (failed,) = [line for line in res.stdout.splitlines() if line.split()[1:2] == ['failed']]
    assert "InputError: The image cache of 164 images at 48x72 needs 1,700,480 bytes (1.7 MB), but its folder" in failed, failed
    assert "free disk space there, or pass cache_dir= a folder with room." in failed
    assert not [p for p in small_disk.rglob('*') if p.name.endswith('.tmp')] and not list(runs.glob('*/done.json'))


def test_without_ray_the_option_says_how_to_install_it(tmp_path, run_cli, monkeypatch):
    monkeypatch.setitem(__import__('sys').modules, 'ray', None)
    res = run_cli(koniq_lt_sweep, 'koniq-lt-sweep', '--runs', tmp_path/'runs', *ARGS, '--ray')
    assert res.returncode == 2 and "pip install -e '.[cluster]'" in res.stderr, res.stderr
