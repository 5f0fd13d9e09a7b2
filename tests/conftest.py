"Shared helpers for the pytest suite: run the installed console scripts (or their functions in-process), write small CSV tables."
import subprocess, sys
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
