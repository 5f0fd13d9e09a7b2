"""`koniq-lt-sweep --ray` on a real local Ray cluster: a head and a worker node started as separate processes on this
machine, bound to 127.0.0.1, one CPU each. Runs spread over both nodes; a worker node killed while a run is on it, or
the driver killed mid-sweep, still ends with every run in results.csv exactly once. Every Ray process started here is
stopped, also when a test fails."""
import os, shutil, signal, socket, subprocess, tempfile, time
from pathlib import Path
import pandas as pd
import pytest
from conftest import BIN, run_script
from test_sweep import alive, descendants, wait_for
from koniq_lt.cli import koniq_lt_sweep

ray = pytest.importorskip('ray', reason="Ray (pip install -e '.[cluster]') is not installed")
ARGS = ['--dataset', 'demo:tiny', '--full_run', 'False', '--pretrained', 'False', '--epochs', '1', '--split', 'lt', '--method', 'mse,mse+pwb']
FAST_NODE_DEATH = dict(RAY_health_check_initial_delay_ms='0', RAY_health_check_period_ms='1000', RAY_health_check_failure_threshold='3')
LOOPBACK_ONLY = dict(RAY_AUTH_MODE='disabled')
DRIVERS = []                                        # the sweeps a test started: killed with the cluster, also when it fails


def start_driver(*args, cwd) -> subprocess.Popen:
    p = subprocess.Popen([str(BIN/'koniq-lt-sweep'), *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    DRIVERS.append(p)
    return p     # a test cluster on 127.0.0.1: no token (Ray 2.60's `ray start` asks for one)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_worker(address: str, env: dict) -> subprocess.Popen:
    "A second node, in a process group of its own (`ray start --block`): killing the group kills the node."
    return subprocess.Popen([str(BIN/'ray'), 'start', '--address', address, '--node-ip-address', '127.0.0.1', '--num-cpus', '1', '--block',
                             '--disable-usage-stats'], env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    "A head node and a worker node on 127.0.0.1 (one CPU each); yields the head's address and a way to (re)start the worker."
    for k, v in LOOPBACK_ONLY.items(): monkeypatch.setenv(k, v)       # the sweeps started below inherit it
    port, env = free_port(), {**os.environ, **FAST_NODE_DEATH}
    address, workers = f'127.0.0.1:{port}', []
    temp = tempfile.mkdtemp(prefix='ray', dir='/tmp')                   # short: Ray's socket paths must fit in 107 characters
    try:                                                               # the head in a process group of its own too: only ours is stopped
        workers.append(subprocess.Popen([str(BIN/'ray'), 'start', '--head', '--node-ip-address', '127.0.0.1', '--port', str(port), '--num-cpus', '1',
                                         '--include-dashboard', 'false', '--disable-usage-stats', '--temp-dir', temp, '--block'],
                                        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        nodes = lambda: subprocess.run([str(BIN/'python'), '-c', f"import ray; ray.init(address='{address}', logging_level='ERROR'); "
                                        "print(sum(n['Alive'] for n in ray.nodes()))"], capture_output=True, text=True, env=env).stdout.strip()
        wait_for(lambda: nodes() == '1', seconds=120)                   # the head is up
        def worker():
            workers.append(start_worker(address, env))
            wait_for(lambda: nodes() == '2', seconds=120)
            return workers[-1]
        yield address, worker
    finally:                                                           # every Ray process started here: the nodes' groups, the sweeps
        for p in [*workers, *DRIVERS]:
            try: os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError: pass
        DRIVERS.clear()
        shutil.rmtree(temp, ignore_errors=True)


def results_of(runs: Path) -> pd.DataFrame:
    return pd.read_csv(runs/'results.csv')


@pytest.mark.slow
def test_a_sweep_spreads_over_both_nodes_and_survives_losing_one(cluster, tmp_path):
    address, worker = cluster
    node = worker()
    runs = tmp_path/'runs'
    res = run_script('koniq-lt-sweep', '--runs', runs, *ARGS, '--seed', '0,1', '--ray', address, '--ray_files', 'return', cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    results = results_of(runs)
    assert len(results) == 4 and results.run.is_unique and results.node.nunique() == 2, results[['run', 'node']]   # both nodes ran
    assert res.stdout.count('(returned,') == 4 and 'Table II' in res.stdout        # as without shared storage: the driver wrote them

    sweep = start_driver('--runs', runs, *ARGS, '--seed', '2,3', '--ray', address, cwd=tmp_path)
    on_worker = lambda: [p for p in runs.glob('*/run.lock') if any(f"process {pid} " in p.read_text() for pid in descendants(node.pid))]
    wait_for(lambda: on_worker(), seconds=180, process=sweep)                    # a run is training on the worker node
    (lost,) = on_worker()
    os.killpg(node.pid, signal.SIGKILL)                                           # the worker node dies with it
    out, err = sweep.communicate(timeout=400)
    assert sweep.returncode == 0, out + err
    results = results_of(runs)
    assert len(results) == 8 and results.run.is_unique, results.run                # every run exactly once
    (line,) = [l for l in out.splitlines() if lost.parent.name in l and '] ' in l]   # one status line: retried by Ray, then done
    assert (lost.parent/'done.json').exists() and ' done ' in line and 'run again: it has no completion record' in line, out


@pytest.mark.slow
def test_a_killed_driver_started_again_finishes_only_what_is_left(cluster, tmp_path):
    address, worker = cluster
    worker()
    runs = tmp_path/'runs'
    sweep = start_driver('--runs', runs, *ARGS, '--seed', '0,1,2', '--ray', address, cwd=tmp_path)
    wait_for(lambda: len(list(runs.glob('*/done.json'))) >= 1, seconds=300, process=sweep)
    os.kill(sweep.pid, signal.SIGKILL)
    sweep.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in runs.glob('*/done.json')}
    res = run_script('koniq-lt-sweep', '--runs', runs, *ARGS, '--seed', '0,1,2', '--ray', address, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"({len(finished)} already finished)" in res.stdout and f"{6 - len(finished)} runs to do" in res.stdout, res.stdout
    results = results_of(runs)
    assert len(results) == 6 and results.run.is_unique
    assert all((runs/name/'done.json').stat().st_mtime_ns == t for name, t in finished.items())   # the finished ones were not redone


def test_an_unreachable_address_is_one_sentence(tmp_path, run_cli):
    res = run_cli(koniq_lt_sweep, 'koniq-lt-sweep', '--runs', tmp_path/'runs', *ARGS, '--seed', '0', '--ray', f'127.0.0.1:{free_port()}')
    assert res.returncode == 2 and res.stderr.strip().splitlines()[-1].startswith("koniq-lt-sweep: error: No Ray cluster answers at '127.0.0.1:"), res.stderr

