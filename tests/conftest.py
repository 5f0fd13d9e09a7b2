"Shared helpers for the pytest suite: run the installed console scripts, write small CSV tables."
import subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def run_script(name, *args, cwd=None):
    "Run the installed console script `name` with `args`; returns the CompletedProcess (text output)."
    return subprocess.run([str(BIN/name), *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def write_table(tmp_path):
    "Write CSV text to a file in tmp_path and return its path."
    def _write(text, name='table.csv'):
        path = tmp_path/name
        path.write_text(text)
        return path
    return _write
