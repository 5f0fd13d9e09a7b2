"The throughput benchmark runs end to end on the CPU at tiny sizes (the GPU figures come from a lent GPU)."
import subprocess, sys
import pandas as pd
import pytest
from conftest import ROOT


@pytest.mark.slow
def test_train_throughput_tiny(tmp_path):
    out = tmp_path/'bench.csv'
    res = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'train_throughput.py'), '--tiny', '--out', str(out),
                          '--record', str(tmp_path/'record.md')], capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    table = pd.read_csv(out)
    assert list(table.arch) == ['cnniqa', 'resnet50'] and list(table.crop) == ['whole', '32x32']   # ResNet-50 on crops
    assert (table[['model_only', 'end_to_end', 'ratio']] > 0).all().all()
    assert 'device: CPU' in res.stdout and 'ratio' in res.stdout
    record = (tmp_path/'record.md').read_text()                           # the record: command, device, versions, the same figures
    assert record.startswith('`python benchmarks/train_throughput.py --tiny --out ') and 'CPU (' in record and 'torch ' in record
    assert 'commit ' in record and f"| resnet50 | 8 | 32x48 | 32x32 | {table.model_only[1]:,} | {table.end_to_end[1]:,} | {table.ratio[1]:,} |" in record
