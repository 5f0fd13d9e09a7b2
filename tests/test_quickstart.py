"The README's main job as written (its command after the install), end to end: the real KonIQ-10k split, then the demo sweep."
import re, subprocess
import pandas as pd
from conftest import BIN, ROOT

README = (ROOT/'README.md').read_text()


def test_the_readme_main_command_is_the_quickstart():
    main = re.findall(r"```bash\n(.*?)\n```", README, re.S)[0]
    assert main.split('&&')[-1].strip() == 'koniq-lt-quickstart'


def test_quickstart_writes_splits_statistics_tables_and_figures(quickstart):
    res, run = quickstart
    assert res.returncode == 0, res.stderr
    assert run.parent.name == 'runs' and run.name.startswith('quickstart-')
    # the split of the real KonIQ-10k table, its statistics and Figure 2
    assert 'real KonIQ-10k MOS table' in res.stdout and 'train 5,777 images' in res.stdout and 'wasserstein' in res.stdout
    assert pd.read_csv(run/'split_summary.csv').set_index('statistic').loc['n_test', 'KonIQ-10k-LT'] == 4296
    # every file it lists exists, the figures among them
    listed = re.search(r"Files in .*?:\n((?:  .*\n)+)", res.stdout).group(1).split()
    assert {'figure2.png', 'split_lt.csv', 'split_summary.csv', 'demo_lt_bin_mae.png', 'sweep'} <= set(listed)
    assert all((run/name).exists() for name in listed)
    assert (run/'demo_lt_bin_mae.png').read_bytes()[:4] == b'\x89PNG'
    # the demo sweep: four methods, two seeds each, on the demo, labelled so on every table
    results = pd.read_csv(run/'sweep'/'results.csv')
    assert sorted(zip(results.split, results.loss, results.weighting, results.seed)) == sorted(
        (s, l, w, seed) for s, l, w in [('lt', 'bmc', 'none'), ('lt', 'mse', 'none'), ('lt', 'mse', 'pwb'), ('official', 'mse', 'none')]
        for seed in (0, 1))
    assert (results.dataset_label == 'demo-ci (not KonIQ-10k)').all()
    headers = [l for l in res.stdout.splitlines() if l.startswith('Table ')]
    assert [h.split(' — ')[0] for h in headers] == ['Table I', 'Table II', 'Table I']   # own test sets, then the shared images
    assert all('DEMO results' in h and 'NOT KonIQ-10k' in h for h in headers)
    table_i = res.stdout.split(headers[0])[1].split('\n\n')[0]
    assert re.search(r"cnniqa mse .*\s2$", table_i, re.M)                               # mean ± std over both seeds
    # results that mean something: the standard split's SRCC, mean of the two seeds
    assert results[results.split == 'official'].srcc.mean() >= 0.6


def test_quickstart_refuses_to_overwrite(quickstart):
    _, run = quickstart
    again = subprocess.run([str(BIN/'koniq-lt-quickstart'), '--out', str(run), '--epochs', '0'], capture_output=True, text=True)
    assert again.returncode == 2 and 'already exists; pass --force' in again.stderr
