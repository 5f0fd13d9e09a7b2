"""The explorer notebook on the README main job's sweep: headless through papermill, and in JupyterLab driven by a real
browser (Debian's Chromium through playwright). Screenshots go to the git-ignored `artefacts/browser/`."""
import json, os, shutil, subprocess, sys, time
import pandas as pd
import pytest
from conftest import ROOT

NOTEBOOK = ROOT/'nbs'/'explore.ipynb'
SHOTS = ROOT/'artefacts'/'browser'


def papermill(out, **params) -> list:
    "Run the explorer notebook through papermill with `params`; every output of its code cells, in order."
    args = [a for k, v in params.items() for a in ('-y', json.dumps({k: v}))]
    done = subprocess.run([sys.executable, '-m', 'papermill', str(NOTEBOOK), str(out), *args, '-k', 'python3', '--no-progress-bar'],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return [o for c in json.loads(out.read_text())['cells'] if c['cell_type'] == 'code' for o in c['outputs']]


def texts(outputs, mime='text/markdown') -> str:
    "The text of every output of type `mime` (and of every stream), joined."
    return '\n'.join(''.join(o['data'][mime]) if mime in o.get('data', {}) else ''.join(o.get('text', '')) for o in outputs)


def test_explore_headless_shows_every_view(quickstart, tmp_path):
    _, run = quickstart
    outputs = papermill(tmp_path/'out.ipynb', sweep=str(run/'sweep'))
    assert not [o for o in outputs if o['output_type'] == 'error']
    assert sum('image/png' in o.get('data', {}) for o in outputs) == 4                 # per-bin MAE, signed error, scatter, gallery
    printed = texts(outputs, 'text/plain')
    assert 'Table I — DEMO results' in printed and 'Table II — DEMO results' in printed and '8 runs' in printed


def test_explore_headless_says_what_it_cannot_show(quickstart, tmp_path):
    _, run = quickstart
    sweep = shutil.copytree(run/'sweep', tmp_path/'sweep')
    damaged = next(sweep.glob('lt-cnniqa-mse+pwb-*-s1-*'))
    (damaged/'predictions.csv').unlink()                                               # a run folder without predictions
    mse = next(sweep.glob('lt-cnniqa-mse-*-s0-*'))
    empty = int(pd.read_csv(mse/'bins.csv').query('n_test == 0').bin.iloc[0])          # a bin without test images
    outputs = papermill(tmp_path/'out.ipynb', sweep=str(sweep), methods=['mse'], bin=empty)
    assert not [o for o in outputs if o['output_type'] == 'error']
    shown = texts(outputs)
    assert f"{damaged.name}: The run folder" in shown and 'predictions.csv is missing (done.json lists it)' in shown
    assert 'has no test images in the prediction table' in shown                       # the gallery's place: one sentence
    assert sum('image/png' in o.get('data', {}) for o in outputs) == 3


def _browser_or_skip():
    "playwright's sync API and Debian's Chromium, or a skip (a failure where KONIQ_LT_BROWSER_TEST=required, as in CI)."
    from browser import CHROMIUM
    try: from playwright.sync_api import sync_playwright
    except ImportError: sync_playwright = None
    if CHROMIUM and sync_playwright: return CHROMIUM, sync_playwright
    why = "needs Debian's chromium (apt-get install chromium) and playwright (pip install -e '.[dev]')"
    if os.environ.get('KONIQ_LT_BROWSER_TEST') == 'required': pytest.fail(f"The browser test {why}.")
    pytest.skip(f"The browser test {why}.")


def _gallery(state: dict):
    "The gallery's PNG (the explorer cell's last output), or None when that output is not an image."
    last = state['cells'][-1]['outputs'][-1]
    return last.get('data', {}).get('image/png')


def _said(state: dict) -> str:
    "What the explorer says above its views (its status line): empty when all went well."
    return ''.join(''.join(o['data']['text/markdown']) for o in state['cells'][-1]['outputs'] if 'text/markdown' in o.get('data', {}))


def _wait_for(check, timeout: float = 30):
    "Poll `check()` until it is true; fail after `timeout` seconds."
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline: pytest.fail(f"The explorer did not redraw within {timeout:.0f} s.")
        time.sleep(0.3)


def test_explore_in_jupyterlab_in_a_real_browser(quickstart, tmp_path):
    from browser import errors, images, jupyter_lab, notebook_state, run_all_and_wait
    chromium, sync_playwright = _browser_or_skip()
    _, run = quickstart
    root = tmp_path/'lab'
    (root/'runs').mkdir(parents=True)
    shutil.copy(NOTEBOOK, root)
    (root/'runs'/run.name).symlink_to(run)                                             # what newest_sweep finds, as after the README's main job
    focus = pd.read_csv(next((run/'sweep').glob('lt-cnniqa-bmc-*-s0-*'))/'bins.csv')   # the first method, alphabetically
    worst = int(focus.mae.idxmax())
    key = next(k for k, b in [('ArrowLeft', worst - 1), ('ArrowRight', worst + 1)]   # a neighbouring bin with test images
               if 0 <= b < len(focus) and focus.n_test[b] > 0)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with jupyter_lab(root, SHOTS/'jupyterlab.log') as (url, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=['--no-sandbox'])
        try:
            page = browser.new_page(viewport={'width': 1300, 'height': 3400})           # tall: the whole explorer in one screenshot
            page.goto(f'{url}/lab/tree/explore.ipynb?token={token}')
            state = run_all_and_wait(page)
            page.locator('.jp-Cell').last.scroll_into_view_if_needed()
            page.screenshot(path=SHOTS/'explore-open.png')
            assert not errors(state) and len(images(state)) == 4
            opened = _gallery(state)
            assert opened
            page.locator('.widget-hslider .noUi-handle').first.focus()                  # move the bin slider by one bin
            page.keyboard.press(key)
            _wait_for(lambda: _gallery(notebook_state(page)) not in (None, opened))
            moved = _gallery(notebook_state(page))
            page.get_by_role('button', name='few-shot bins').click()
            _wait_for(lambda: _gallery(notebook_state(page)) not in (None, moved))
            page.screenshot(path=SHOTS/'explore-few-shot.png')
            state = notebook_state(page)
            assert not errors(state) and not _said(state)         # a callback's error would show as a sentence above the views
        finally: browser.close()
