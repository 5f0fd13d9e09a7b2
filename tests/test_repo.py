"Repository promises: the README's two commands, CI running the README's test command, index.ipynb mirroring it."
import json, re
from conftest import ROOT

README = (ROOT/'README.md').read_text()


def readme_commands():
    "The bash code blocks of the README's 'Two commands' section."
    section = README.split('## Two commands', 1)[1].split('\n## ', 1)[0]
    return re.findall(r"```bash\n(.*?)\n```", section, re.S)


def test_readme_has_exactly_two_commands():
    main, tests = readme_commands()
    assert 'koniq-lt-quickstart' in main and 'pip install' in main
    assert all(step in tests for step in ('pip install', '".[dev]"', 'nbdev_test', 'pytest'))


def test_ci_runs_the_readme_test_command_verbatim():
    assert f"( {readme_commands()[1]} )" in (ROOT/'.ci'/'run').read_text()


def test_index_notebook_mirrors_readme():
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    assert ''.join(cells[0]['source']).strip() == README.strip()


def test_console_scripts_installed():
    import sys
    from pathlib import Path
    for name in ('koniq-lt-split', 'koniq-lt-quickstart', 'koniq-lt-sweep', 'koniq-lt-pretrain-scnn'):
        assert (Path(sys.executable).parent/name).exists(), name


def test_readme_benchmark_figures_are_their_records():
    "Every throughput table in the README is a benchmark record file, included verbatim (no hand-copied figures)."
    blocks = re.findall(r"<!-- record: (\S+) -->\n(.*?)<!-- end record -->", README, re.S)
    assert blocks, "the README shows no benchmark record"
    for path, text in blocks: assert text == (ROOT/path).read_text(), path
