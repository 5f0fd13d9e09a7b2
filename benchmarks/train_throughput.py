"""Training throughput: model-only step rate vs the end-to-end `iqa_learner` rate, on the same machine in one run.

Model-only: random input already on the device, no loader: forward, MSE, backward and Adam step, in bf16
autocast, channels-last and cuDNN autotuning on CUDA (float32 on the CPU), as the learner does. End to end: `iqa_dataloaders` +
`iqa_learner` + `fit` on images of the built-in demo (decoded once into the uint8 cache at the benchmark's
resolution; the cache build is timed apart). Both exclude warm-up steps and report their best timing (of 3 runs
of `--steps` steps; of the epochs), the usual guard against noise. Prints images/s and their ratio.

Crop-trained models (`--crop`) take random crops of the cached images on the device in the end-to-end run and
crop-sized random input in the model-only run; TReS's steps include its flipped view, as in training.

    python benchmarks/train_throughput.py                          # GPU: ResNet-50 and VGG-16, 384x512, bs 16 and 64
    python benchmarks/train_throughput.py --archs tres,topiq,maniqa --crop 224,224   # GPU: 224 crops of 384x512
    python benchmarks/train_throughput.py --tiny                   # CPU smoke run (CI): tiny sizes

`--record FILE` also writes the run as a record (markdown: the command, date, device, torch and package versions, commit, and
the table). The README's throughput tables are such records, included verbatim between `<!-- record: FILE -->` markers
(`tests/test_repo.py` checks that they are the files' content): figures are never copied by hand.
"""
import platform, shlex, sys, time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
import numpy as np
import pandas as pd
import torch
from fastcore.script import call_parse, store_true
from fastai.callback.core import Callback
from fastai.torch_core import setup_cuda
from koniq_lt.demo import read_demo
from koniq_lt.split import official_split
from koniq_lt.models import create_model, model_config
from koniq_lt.dataloaders import iqa_dataloaders
from koniq_lt.learner import iqa_learner
from koniq_lt.images import image_cache
from koniq_lt.experiments import device_name, git_commit


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def model_only_rate(arch, bs, size, device, steps, warmup, repeats=3):
    "Images/s of training steps on random device-resident input: the best of `repeats` timings of `steps` steps."
    model = create_model(arch, pretrained=False, img_size=size[0]).to(device)
    cuda = device.type == 'cuda'
    if cuda: model = model.to(memory_format=torch.channels_last)
    x = torch.randn(bs, 3, *size, device=device)
    if cuda: x = x.contiguous(memory_format=torch.channels_last)
    y = torch.rand(bs, 1, device=device)
    opt = torch.optim.Adam(model.parameters(), 1e-4)
    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            pred = model(x)
            loss = torch.nn.functional.mse_loss(pred[:, :1].float(), y)
            if hasattr(model, 'extra_loss'): loss = loss + model.extra_loss(pred.float(), y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    for _ in range(warmup): step()
    rates = []
    for _ in range(repeats):
        sync(device); t = time.perf_counter()
        for _ in range(steps): step()
        sync(device); rates.append(steps * bs / (time.perf_counter() - t))
    return max(rates)


class TrainTimer(Callback):
    "Time the training phase of each epoch after `skip` warm-up batches."
    def __init__(self, skip): self.skip, self.rates = skip, []
    def before_epoch(self): self.n, self.t0 = 0, None
    def after_batch(self):
        if not self.training: return
        self.n += 1
        if self.n == self.skip: sync(self.dls.device); self.t0 = time.perf_counter()
    def after_train(self):
        sync(self.dls.device)
        if self.t0 is not None: self.rates.append((self.n - self.skip) * self.dls.train.bs / (time.perf_counter() - self.t0))


def end_to_end_rate(arch, bs, size, crop, table, split, device, epochs, warmup):
    "Images/s of `iqa_learner` training from the uint8 cache: the best epoch's training phase after warm-up batches."
    dls = iqa_dataloaders(table, split, arch, bs=bs, size=size, crop=crop, valid_pct=0.02, device=device, progress=False)
    learn = iqa_learner(dls, pretrained=False, save_best=False)
    timer = TrainTimer(warmup)
    with learn.no_bar(), learn.no_logging(): learn.fit(epochs, cbs=timer)
    return max(timer.rates)


def arch_crop(arch, crop):
    "The training crop (H, W) for `arch`: `crop` ('h,w'; 'none' for whole images; None for the model's own); a model without an ImageNet backbone (CNNIQA) keeps its own."
    cfg = model_config(arch)
    if crop == 'none': return None
    if crop is None or not cfg.pretrained_backbone: return cfg.crop
    return tuple(int(v) for v in crop.split(','))


def write_record(path, res: pd.DataFrame, device, preset: str, n_images: int) -> str:
    "Write the benchmark run as a markdown record (command, date, device, versions, commit, table) to `path`; its text."
    command = 'python benchmarks/train_throughput.py ' + ' '.join(shlex.quote(a) for a in sys.argv[1:])
    versions = ', '.join(f"{p} {version(p)}" for p in ('torch', 'timm', 'fastai', 'koniq_lt'))
    table = res.rename(columns={'arch': 'model', 'bs': 'batch', 'size': 'cache', 'model_only': 'model only (img/s)',
                                'end_to_end': 'iqa_learner (img/s)'})
    lines = ['| ' + ' | '.join(table.columns) + ' |', '|' + '---|' * len(table.columns)]
    lines += ['| ' + ' | '.join(f"{v:,}" if isinstance(v, (int, float, np.number)) else str(v) for v in row) + ' |' for row in table.itertuples(index=False)]
    text = (f"`{command}`\n\n{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {device_name(device)}; {versions}; "
            f"Python {platform.python_version()}; commit {git_commit()}; {n_images:,} demo images ('{preset}')\n\n" + '\n'.join(lines) + '\n')
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)
    return text


@call_parse
def main(
    archs: str = 'resnet50,vgg16',  # Architectures to measure
    batch_sizes: str = '16,64',      # Batch sizes
    size: str = '384,512',           # Input height,width (of the image cache)
    crop: str = None,                # Training crop height,width (default: the architecture's own; 'none': whole images)
    preset: str = 'ci',              # Demo preset whose images feed the end-to-end run
    steps: int = 40,                 # Timed model-only steps
    epochs: int = 3,                 # End-to-end epochs (each timed after warm-up batches; the best counts)
    tiny: store_true = False,        # CPU smoke run: cnniqa and resnet50 (32x32 crops), 32x48, bs 8, a few steps, 48 images
    out: str = None,                 # Also write the results table as CSV here
    record: str = None,              # Also write a markdown record of the run here (e.g. benchmarks/records/h200.md)
):
    "Print model-only and end-to-end training images/s and their ratio."
    import fastai.callback.progress  # noqa: F401  (Learner.no_bar)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if device.type == 'cuda': setup_cuda(benchmark=True)    # cuDNN autotuning for both paths (iqa_learner sets it too)
    if tiny: archs, batch_sizes, size, crop, preset, steps, epochs = 'cnniqa,resnet50', '8', '32,48', '32,32', 'tiny', 3, 2
    size = tuple(int(v) for v in size.split(','))
    table = read_demo(preset)
    if tiny: table = table.iloc[:48]                          # a smoke run: 6 batches an epoch
    split = official_split(table).assign(split='train')
    t = time.perf_counter(); image_cache(table.path, size, progress=False)
    print(f"device: {torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}; torch {torch.__version__}; "
          f"{len(table)} demo images ('{preset}') cached at {size[0]}x{size[1]} in {time.perf_counter() - t:.1f} s (or reused)")
    rows = []
    for arch in archs.split(','):
        for bs in map(int, batch_sizes.split(',')):
            warm = 3 if tiny else 20
            c = arch_crop(arch, crop)
            m = model_only_rate(arch, bs, c or size, device, steps, warm)
            e = end_to_end_rate(arch, bs, size, c, table, split, device, epochs, warm)
            rows.append(dict(arch=arch, bs=bs, size=f"{size[0]}x{size[1]}", crop=f"{c[0]}x{c[1]}" if c else 'whole', model_only=round(m, 1), end_to_end=round(e, 1), ratio=round(e / m, 3)))
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    res = pd.DataFrame(rows)
    if out: res.to_csv(out, index=False)
    if record: print(f"record written to {record}:\n" + write_record(record, res, device, preset, len(table)))
    return res
