"""Drive JupyterLab in a real browser (Debian's Chromium through playwright): a server on 127.0.0.1 with a token on a free
port, a notebook opened and run, its outputs read from JupyterLab's own notebook model. Used by tests/test_explore.py."""
import contextlib, json, os, secrets, shutil, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


def free_port() -> int:
    "A TCP port free on the loopback address now."
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(root: Path, log: Path, timeout: float = 60):
    "JupyterLab serving `root` on 127.0.0.1 (a free port, a token), its app exposed to the page; yields its base URL and token; stopped on exit."
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--allow-root', '--ip=127.0.0.1', f'--port={port}',
           f'--ServerApp.root_dir={root}', f'--IdentityProvider.token={token}', '--LabApp.expose_app_in_browser=True',
           '--ServerApp.port_retries=0', '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    settings = root/'.jupyterlab-settings'/'@jupyterlab'/'apputils-extension'
    settings.mkdir(parents=True, exist_ok=True)
    (settings/'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))  # no news pop-up
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root/'.jupyter-config'), 'JUPYTER_RUNTIME_DIR': str(root/'.jupyter-runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(root/'.jupyterlab-settings')}
    with open(log, 'w') as out:
        server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start within {timeout:.0f} s; its log: {log}") from None
                time.sleep(0.5)
        yield url, token
    finally:       # the server's own shutdown stops its kernels (each in a process group of its own); then the server
        with contextlib.suppress(OSError):
            urllib.request.urlopen(urllib.request.Request(f'{url}/api/shutdown?token={token}', method='POST'), timeout=10)
        try: server.wait(15)
        except subprocess.TimeoutExpired: pass
        with contextlib.suppress(ProcessLookupError): os.killpg(server.pid, signal.SIGTERM)
        try: server.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError): os.killpg(server.pid, signal.SIGKILL)
            server.wait()


NOTEBOOK_OUTPUTS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells, out = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    const outputs = cell.outputs.toJSON();
    out.push({count: cell.executionCount, outputs: outputs});
  }
  return {busy: panel.sessionContext.session.kernel.status !== 'idle', cells: out};
}"""


def notebook_state(page) -> dict:
    "The open notebook's code cells (execution count, outputs as nbformat JSON) and whether its kernel is busy."
    return page.evaluate(NOTEBOOK_OUTPUTS)


def run_all_and_wait(page, timeout: float = 120) -> dict:
    "Run every cell of the open notebook (JupyterLab's own command) and wait until each has run and the kernel is idle."
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", timeout=timeout * 1000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")   # not awaited: the wait below is bounded
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = notebook_state(page)
        if not state['busy'] and all(c['count'] for c in state['cells']): return state
        time.sleep(0.5)
    raise TimeoutError(f"The notebook's cells did not all run within {timeout:.0f} s.")


def images(state: dict) -> list:
    "Every image output of the notebook state, as base64 PNG data, in order."
    return [o['data']['image/png'] for c in state['cells'] for o in c['outputs'] if 'image/png' in o.get('data', {})]


def errors(state: dict) -> list:
    "Every error output (or stderr traceback) of the notebook state, one line each."
    found = []
    for c in state['cells']:
        for o in c['outputs']:
            if o['output_type'] == 'error': found.append(f"{o['ename']}: {o['evalue']}")
            elif o['output_type'] == 'stream' and o.get('name') == 'stderr' and 'Traceback' in ''.join(o['text']): found.append(''.join(o['text'])[:300])
    return found
