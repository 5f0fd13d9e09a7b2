"""The main job's time: the README's first command (`koniq-lt-quickstart`, after the install), and each stage's share.

The quickstart runs in this process with timers around its stages. Time spent inside a timed stage's own timed
stages counts once, for the inner one; what no timer covers (the learners' set-up, Python) is 'other'. By default the run is cold as on a fresh clone: the shipped data is seen through a
temporary data folder (`KONIQ_LT_DATA`), so the demo dataset and the image cache are built as a new user's are.
Output goes to a temporary folder, removed afterwards.

    python benchmarks/main_job.py                                # the total and the stages' shares
    python benchmarks/main_job.py --warm                         # reuse this checkout's demo and image caches
    python benchmarks/main_job.py --record benchmarks/records/main-job-cpu-2core.md

`--record FILE` also writes the run as a markdown record (command, date, machine, versions, commit, the table), which
the README includes verbatim between `<!-- record: FILE -->` markers (`tests/test_repo.py` checks it).
"""
import functools, os, platform, shlex, sys, tempfile, time
from collections import defaultdict
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

START = time.perf_counter()


class Stages:
    "Exclusive wall time per stage: a stage called inside another pauses the outer one."
    def __init__(self): self.seconds, self.stack = defaultdict(float), []

    def wrap(self, owner, name: str, stage: str) -> None:
        "Time every call of `owner.name` as `stage`."
        f = getattr(owner, name)
        @functools.wraps(f)
        def timed(*args, **kwargs):
            now = time.perf_counter()
            if self.stack: self.seconds[self.stack[-1][0]] += now - self.stack[-1][1]
            self.stack.append([stage, now])
            try: return f(*args, **kwargs)
            finally:
                end = time.perf_counter()
                inner, began = self.stack.pop()
                self.seconds[inner] += end - began
                if self.stack: self.stack[-1][1] = end
        setattr(owner, name, timed)


def cold_data_dir(tmp: Path) -> Path:
    "A data folder that shows the shipped files (Kodak pristines, the KonIQ table) without this checkout's caches."
    from koniq_lt.core import data_dir
    shipped, cold = data_dir(), tmp/'data'
    cold.mkdir()
    for p in shipped.iterdir():
        if p.name != 'cache': (cold/p.name).symlink_to(p.resolve())
    return cold


def timed_quickstart(out: Path) -> dict:
    "Run the quickstart's defaults into `out` with its stages timed; seconds by stage."
    stages = Stages()
    import koniq_lt.cli as cli         # what the console script imports, then what its first run does
    import fastai.learner, koniq_lt.experiments as ex, koniq_lt.learner as lrn, koniq_lt.dataloaders as dl
    stages.seconds['imports (koniq_lt, pandas, matplotlib, torch, fastai, timm)'] = time.perf_counter() - START
    for owner, name, stage in [
            (cli, 'split_report', 'KonIQ-10k-LT split of the real table, statistics, Figure 2'),
            (ex, 'load_dataset', 'demo dataset (built on a fresh clone, then read)'),
            (ex, 'make_split', 'demo splits and shared test images'), (ex, 'shared_test_names', 'demo splits and shared test images'),
            (dl, 'iqa_dataloaders', 'image cache and DataLoaders'),
            (fastai.learner.Learner, 'fit', 'training (fastai fit)'),
            (lrn, 'predict_table', 'test predictions'),
            (ex, 'run_figures', "each run's figures and files"), (ex, 'write_run', "each run's figures and files"),
            (cli, 'collect_results', 'tables and the per-bin figure'), (cli, 'format_tables', 'tables and the per-bin figure'),
            (cli, 'plot_compare', 'tables and the per-bin figure'), (cli, 'save_figure', 'tables and the per-bin figure')]:
        stages.wrap(owner, name, stage)
    cli.quickstart(out)
    return dict(stages.seconds)


def main(argv):
    warm, record = '--warm' in argv, argv[argv.index('--record') + 1] if '--record' in argv else None
    with tempfile.TemporaryDirectory(prefix='koniq_lt_main_job_') as tmp:
        if not warm:
            os.environ['KONIQ_LT_DATA'] = str(cold_data_dir(Path(tmp)))
        seconds = timed_quickstart(Path(tmp)/'quickstart')
        total = time.perf_counter() - START
    import pandas as pd, torch
    from koniq_lt.experiments import git_commit
    seconds['other: learners, printing, Python'] = total - sum(seconds.values())
    table = pd.DataFrame({'seconds': seconds}).assign(share=lambda d: d.seconds / total).sort_values('seconds', ascending=False)
    machine = f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), torch {torch.__version__} on {torch.get_num_threads()} threads"
    lines = [f"**main job: {total:.0f} s** ({'warm caches' if warm else 'cold, as on a fresh clone'}); {machine}", '',
             '| stage | seconds | share |', '|---|---|---|']
    lines += [f"| {stage} | {r.seconds:.1f} | {r.share:.0%} |" for stage, r in table.iterrows()]
    text = '\n'.join(lines)
    print('\n' + text)
    if record:
        versions = ', '.join(f"{p} {version(p)}" for p in ('torch', 'fastai', 'koniq_lt'))
        command = 'python benchmarks/main_job.py ' + ' '.join(shlex.quote(a) for a in argv)
        Path(record).parent.mkdir(parents=True, exist_ok=True)
        Path(record).write_text(f"`{command}`\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {versions}; Python "
                                f"{platform.python_version()}; commit {git_commit()}\n\n{text}\n")


if __name__ == '__main__': main(sys.argv[1:])
