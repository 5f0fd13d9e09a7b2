"`koniq-lt-sweep`: killed midway and started again, it finishes the remaining runs and redoes none."
import os, signal, subprocess, time
import numpy as np
import pandas as pd
import pytest
from conftest import BIN, run_script

ARGS = ['--split', 'lt', '--method', 'mse,mse+pwb:0.05', '--seed', '0', '--full_run', 'False', '--dataset', 'demo:ci']


@pytest.mark.slow
def test_sweep_resumes_after_a_kill(tmp_path):
    runs = tmp_path/'runs'
    sweep = subprocess.Popen([str(BIN/'koniq-lt-sweep'), '--runs', str(runs), *ARGS], cwd=tmp_path, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not list(runs.glob('*/results.csv')) and time.time() < deadline and sweep.poll() is None: time.sleep(0.5)
    os.killpg(sweep.pid, signal.SIGKILL)                               # the sweep, papermill and the kernel in flight
    sweep.wait()
    first = {p.parent.name: p.stat().st_mtime_ns for p in runs.glob('*/results.csv')}
    assert len(first) == 1, "the kill should land after the first run and before the second"
    for p in runs.glob('*/results.csv'): assert len(pd.read_csv(p)) == 1   # never half-written

    res = run_script('koniq-lt-sweep', '--runs', runs, *ARGS, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert 'Sweep of 2 runs' in res.stdout and '(1 already finished)' in res.stdout and 'skipped' in res.stdout
    done = {p.parent.name: p.stat().st_mtime_ns for p in runs.glob('*/results.csv')}
    assert len(done) == 2 and all(done[k] == v for k, v in first.items())  # the finished run was not redone
    results = pd.read_csv(runs/'results.csv')
    assert sorted(results.weighting) == ['none', 'pwb'] and np.isfinite(results[['plcc', 'srcc', 'bmae']]).all().all()
    assert 'Table II — DEMO results' in (runs/'tables.txt').read_text()

    bad = run_script('koniq-lt-sweep', '--runs', runs, '--split', 'lt', '--method', 'mse+pwb:tiny', cwd=tmp_path)
    assert bad.returncode == 2 and "has eps 'tiny', which is not a number" in bad.stderr
