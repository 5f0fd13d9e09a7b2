"Every architecture through iqa_learner on the demo's CI preset (CPU), export round trips, and a learning check."
import numpy as np
import pytest
import torch
from fastai.learner import load_learner
from conftest import with_rating_histograms
from koniq_lt.core import InputError
from koniq_lt.models import list_models, model_config
from koniq_lt.dataloaders import iqa_dataloaders
from koniq_lt.learner import iqa_learner, predict_table
from koniq_lt.split import cut_train, lt_split, official_split
from koniq_lt.experiments import run_settings

# CPU sizes: the tiny inputs of a CI-sized experiment run (`run_settings(arch, 1, full_run=False)`: 32x48 images, 32x32
# crops, square ones for MANIQA, 75x75 crops for NIMA's Inception), so that CI stays short; the code path is the full one.
# The ImageNet backbones train on 160 of the CI preset's train images (valid and test stay whole), the attention models
# (150, 44 and 128 M parameters) on 64 and are scored on 48 test images
TRAIN_CUT = {'vgg16': 160, 'resnet50': 160, 'dbcnn': 160, 'nima': 64, 'nima_emd': 64, 'tres': 64, 'tres_flipback': 64, 'topiq': 64,
             'maniqa': 64, 'maniqa_crops': 64}
TEST_CUT = {'nima': 48, 'nima_emd': 48, 'tres': 48, 'tres_flipback': 48, 'topiq': 48, 'maniqa': 48, 'maniqa_crops': 48}
# NIMA's Inception-ResNet-v2 (54 M) and the paper form's VGG-16 with its 120 M-parameter fully connected layers, and MANIQA's
# channel attention over ViT-B/8's 4 x 768 channels, cost seconds per CPU batch: on the CPU test they take smaller backbones
# (NIMA the paper's MobileNet, MANIQA a ViT-S/8, two of its blocks and a 384-wide neck): the same code path in a fraction of the time
SMALL = dict(backbone='mobilenetv2_100.ra_in1k')
MODEL_KWARGS = {'nima': SMALL, 'nima_emd': SMALL, 'maniqa': dict(backbone='vit_small_patch8_224.dino', blocks=(8, 9), dim=384)}
MODEL_KWARGS['maniqa_crops'] = MODEL_KWARGS['maniqa']
SLOW = {'tres', 'tres_flipback'}                        # over 10 s each on 2 CPU cores: marked slow

# `ci_demo`, the demo's CI preset (984 images), is a session fixture of conftest.py


@pytest.mark.parametrize('arch', [pytest.param(a, marks=pytest.mark.slow) if a in SLOW else a for a in list_models()])
def test_architecture_fits_one_epoch_and_round_trips(arch, ci_demo, tmp_path):
    split = official_split(ci_demo)
    if arch in TRAIN_CUT: split = cut_train(split, TRAIN_CUT[arch])
    if model_config(arch).targets == 'histogram': ci_demo = with_rating_histograms(ci_demo)   # NIMA's paper form: EMD on rating histograms
    ci = run_settings(arch, 1, full_run=False)
    dls = iqa_dataloaders(ci_demo, split, arch, bs=16, size=ci['size'], crop=ci['crop'], device='cpu',
                          progress=False, cache_dir=tmp_path/'cache')
    learn = iqa_learner(dls, pretrained=False, path=tmp_path, model_kwargs=MODEL_KWARGS.get(arch))   # the default loss
    xb, yb = dls.one_batch()                                          # forward and backward on a tiny batch
    out = learn.model(xb[:2]); out[:, 0].sum().backward()
    assert out.shape[0] == 2 and all(torch.isfinite(p.grad).all() for p in learn.model.parameters() if p.grad is not None)
    learn.model.zero_grad()
    with learn.no_bar(), learn.no_logging(): assert learn.fit_arch(1) == (2 if model_config(arch).stages else 1)
    assert np.isfinite(learn.recorder.values[-1]).all()
    learn.export(tmp_path/'learner.pkl')
    back = load_learner(tmp_path/'learner.pkl')
    learn.model.eval(); back.model.eval()
    with torch.no_grad(): assert torch.allclose(back.model(xb[:4]), learn.model(xb[:4]), atol=1e-5)
    # scored as its reference does: the centre crop, the whole image (TOPIQ, DBCNN, NIMA, MANIQA), or the mean of seeded
    # random crops (TReS 50, maniqa_crops 20; here 2 to keep CI short)
    test_crops = model_config(arch).test_crops
    n_crops = min(test_crops, 2) if test_crops else test_crops
    rows = np.flatnonzero(ci_demo.image_name.isin(split.image_name[split.split == 'test']))[:TEST_CUT.get(arch)]
    pred = predict_table(learn, ci_demo, split, rows=rows, n_crops=n_crops, seed=3)
    assert len(pred) == len(rows) and np.isfinite(pred.prediction).all()
    again = predict_table(back, ci_demo, split, rows=rows, n_crops=n_crops, seed=3)   # the exported learner predicts the same
    assert np.allclose(again.prediction, pred.prediction, atol=1e-3)       # (with the same seed, the same crops)
    if n_crops and n_crops > 1:                                           # another seed, other crops
        assert not np.allclose(predict_table(learn, ci_demo, split, rows=rows, n_crops=n_crops, seed=4).prediction, pred.prediction)


@pytest.mark.slow
# That CNNIQA learns on the demo (standard-split SRCC of at least 0.6) is checked by the README's main job itself:
# tests/test_quickstart.py.


def test_lt_split_trains_with_pwb_and_balanced_sampling(ci_demo, tmp_path):
    split = lt_split(ci_demo, seed=0)
    dls = iqa_dataloaders(ci_demo, split, 'cnniqa', bs=16, device='cpu', sampling='sqrt_inv', progress=False, cache_dir=tmp_path)
    assert len(dls.valid.dataset) > 0 and dls.train.sample_weights is not None      # valid carved from train
    learn = iqa_learner(dls, loss='norm_in_norm', weighting='pwb', weight_params={'eps': 0.05}, path=tmp_path)
    with learn.no_bar(), learn.no_logging(): learn.fit_cosine(1)
    assert np.isfinite(learn.recorder.values[-1]).all()


def test_bad_learner_arguments(ci_demo, tmp_path):
    split = official_split(ci_demo)
    dls = iqa_dataloaders(ci_demo, split, 'cnniqa', bs=16, device='cpu', progress=False, cache_dir=tmp_path)
    with pytest.raises(InputError, match="The model 'alexnet' is not registered"): iqa_dataloaders(ci_demo, split, 'alexnet')
    with pytest.raises(InputError, match="not one of mse"): iqa_learner(dls, loss='huber')
    with pytest.raises(InputError, match="The optimiser 'adagrad' is not one of adam"): iqa_learner(dls, opt='adagrad')
    with pytest.raises(InputError, match="not in the split"): iqa_dataloaders(ci_demo, split.iloc[:10], 'cnniqa', device='cpu')
    with pytest.raises(InputError, match="needs a score-distribution head"): iqa_learner(dls, loss='emd')
    emd = iqa_dataloaders(ci_demo, split, 'nima_emd', size=(80, 80), crop=(75, 75), targets='score', device='cpu', progress=False,
                          cache_dir=tmp_path)
    with pytest.raises(InputError, match="trains with the 'emd' loss"): iqa_learner(emd, loss='mse', pretrained=False)
    with pytest.raises(InputError, match="needs rating histograms"): iqa_learner(emd, pretrained=False)
