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
    for name in ('koniq-lt-split', 'koniq-lt-quickstart', 'koniq-lt-sweep', 'koniq-lt-pretrain-scnn', 'koniq-lt-predict'):
        assert (Path(sys.executable).parent/name).exists(), name


def test_readme_benchmark_figures_are_their_records():
    "Every throughput table in the README is a benchmark record file, included verbatim (no hand-copied figures)."
    blocks = re.findall(r"<!-- record: (\S+) -->\n(.*?)<!-- end record -->", README, re.S)
    assert blocks, "the README shows no benchmark record"
    for path, text in blocks: assert text == (ROOT/path).read_text(), path


def test_notebook_cells_run_in_nbdev_docs_processing():
    # nbdev's docs processing (nbdev_docs, nbdev_preview) runs only exported cells, show_doc cells and cells with an import:
    # a cell that imports and also runs other code there would use names from cells it skips. Keep imports in cells of their own.
    import ast
    mixed = []
    for path in sorted((ROOT/'nbs').glob('*.ipynb')):
        for i, cell in enumerate(json.loads(path.read_text())['cells']):
            src = ''.join(cell['source'])
            if cell['cell_type'] != 'code' or re.search(r'^#\|\s*export', src, re.M): continue
            tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
            imports = (ast.Import, ast.ImportFrom)
            if any(isinstance(n, imports) for n in ast.walk(tree)) and not all(isinstance(n, imports) for n in tree.body):
                mixed.append(f"{path.name} cell {i}: {src.splitlines()[0]}")
    assert not mixed, 'cells mixing imports with other code:\n' + '\n'.join(mixed)


def test_notebooks_a_reader_sees_keep_their_figures():
    # a reader on a code host sees Figure 2, the per-bin figures and the explorer without running anything
    # (tools/refresh_outputs.py re-runs them; nbdev_clean keeps outputs)
    for name, least in [('04_split.ipynb', 1), ('06_analysis.ipynb', 5), ('explore.ipynb', 4)]:
        outputs = [o for c in json.loads((ROOT/'nbs'/name).read_text())['cells'] for o in c.get('outputs', [])]
        assert sum('image/png' in o.get('data', {}) for o in outputs) >= least, name
        assert not [o for o in outputs if o['output_type'] == 'error'], name
