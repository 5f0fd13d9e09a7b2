"""Re-run the notebooks that keep their outputs in the repository, so a reader on a code host sees their figures:
04_split (Figure 2 of the real KonIQ-10k table), 06_analysis (the per-bin figures, on synthetic predictions it labels so)
and explore (the README main job's sweep: demo results, labelled so). Run after changing any of them, then commit:

    python tools/refresh_outputs.py          # uses the newest runs/quickstart-*/sweep, or runs koniq-lt-quickstart first

nbdev_clean then strips what changes from run to run (execution counts, metadata) and keeps the outputs.
"""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main():
    if not sorted((ROOT/'runs').glob('quickstart-*/sweep')):
        subprocess.run([str(BIN/'koniq-lt-quickstart')], cwd=ROOT, check=True)
    for name in ('04_split.ipynb', '06_analysis.ipynb'):
        subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--inplace', name],
                       cwd=ROOT/'nbs', check=True)
    explore = ROOT/'nbs'/'explore.ipynb'                      # papermill: its parameters cell stays as it is
    subprocess.run([sys.executable, '-m', 'papermill', str(explore), str(explore), '--cwd', str(ROOT/'nbs'), '--no-progress-bar'], check=True)
    subprocess.run([str(BIN/'nbdev_clean')], cwd=ROOT, check=True)


if __name__ == '__main__': main()
