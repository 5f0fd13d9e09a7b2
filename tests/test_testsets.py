"The cross-dataset test sets: miniature copies of CSIQ, LIVE Challenge and KADID-10k in their official layouts, read back."
import shutil, subprocess, sys
import numpy as np
import pandas as pd
import pytest
import scipy.io
from PIL import Image
from conftest import one_sentence
from testsets_layouts import csiq_scores, kadid_scores, livec_names, make_csiq, make_kadid, make_livec, write_csiq_xlsx
from koniq_lt.core import InputError
from koniq_lt.testsets import (CSIQ_DISTORTIONS, KADID_DISTORTIONS, TEST_DATASETS, dataset_layout, read_csiq, read_kadid, read_livec,
                               read_test_dataset)

ORDINARY = ['image_name', 'MOS', 'path']


def check_ordinary(table, dataset, n):
    "The package's ordinary table: first columns, n rows, unique names, MOS within 0-100, absolute paths that exist, attrs."
    assert table.columns[:3].tolist() == ORDINARY and len(table) == n
    assert table.image_name.is_unique and table.MOS.between(0, 100).all()
    assert all(p.startswith('/') and __import__('os').path.isfile(p) for p in table.path)
    assert table.attrs['dataset'] == table.attrs['label'] == dataset
    assert table.attrs['score_range'] == (0.0, 100.0) and table.attrs['source'] and table.attrs['image_dir']


def test_csiq_reads_back_with_lower_dmos_a_higher_score(tmp_path, tiny_demo):
    folder = make_csiq(tmp_path/'CSIQ', tiny_demo, xlsx=False)
    table = read_csiq(folder)
    check_ordinary(table, 'CSIQ', 18)
    assert table.columns.tolist() == ORDINARY + ['reference', 'distortion', 'level', 'DMOS', 'DMOS_std']
    assert table.attrs['source'].endswith('csiq.DMOS.csv') and table.attrs['clipped'] == 0
    written = csiq_scores(tiny_demo, 18)
    assert table.image_name.tolist() == written.file.tolist()                 # 1600.AWGN.1.png, 1600.jpeg2000.1.png, ...
    assert np.allclose(table.MOS, (1 - written.dmos) * 100) and np.allclose(table.MOS, tiny_demo.loc[tiny_demo.distortion != 'pristine', 'MOS'][:18], atol=1e-3)
    order = table.DMOS.argsort()
    assert table.MOS.iloc[order].is_monotonic_decreasing                      # lower DMOS, higher score
    assert set(table.distortion) == set(CSIQ_DISTORTIONS) and table.level.between(1, 5).all()
    assert table.reference[0] == '1600.png' and table.path[0].endswith('dst_imgs/awgn/1600.AWGN.1.png')


def test_csiq_workbook_as_the_authors_lay_it_out(tmp_path, tiny_demo):
    pytest.importorskip('openpyxl')
    folder = make_csiq(tmp_path/'CSIQ', tiny_demo, xlsx=True, csv_export=False)
    table = read_csiq(folder)
    assert table.attrs['source'].endswith('csiq.DMOS.xlsx')
    assert table.reference[0] == '1600.png'                                   # a number in the workbook
    pd.testing.assert_frame_equal(table.drop(columns='path'), read_csiq(make_csiq(tmp_path/'CSV', tiny_demo, xlsx=False)).drop(columns='path'),
                                  check_dtype=False)


def test_csiq_workbook_without_openpyxl_says_what_to_do(tmp_path, tiny_demo, monkeypatch):
    monkeypatch.setitem(sys.modules, 'openpyxl', None)                         # as if it were not installed
    folder = make_csiq(tmp_path/'CSIQ', tiny_demo, xlsx=False, csv_export=False)
    (folder/'csiq.DMOS.xlsx').write_bytes(b'PK')
    with pytest.raises(InputError) as e: read_csiq(folder)
    assert all(w in one_sentence(e) for w in ('needs openpyxl', 'pip install openpyxl', "'csiq.DMOS.csv'"))
    csiq_scores(tiny_demo, 18)[['image', 'dst_idx', 'dst_type', 'dst_lev', 'dmos_std', 'dmos']].to_csv(folder/'csiq.DMOS.csv', index=False)
    assert read_csiq(folder).attrs['source'].endswith('csiq.DMOS.csv')         # the CSV export is used instead


def test_csiq_other_exports_names_and_cases(tmp_path, tiny_demo):
    "pyiqa's meta-info CSV, HyperIQA's label file and flat dst_imgs_all/, a CSV export with the sheet's blank rows and columns, type names as variants and folders in another case."
    reference = read_csiq(make_csiq(tmp_path/'CSIQ', tiny_demo, xlsx=False))
    written = csiq_scores(tiny_demo, 18)
    variants = {'meta_info_CSIQDataset.csv': lambda f: written.assign(ref_name=written.image + '.png', dist_name=written.file)[['ref_name', 'dist_name', 'dmos']].to_csv(f, index=False),
                'csiq_label.txt': lambda f: f.write_text(''.join(f"{a} {b}\n" for a, b in zip(written.file, written.dmos))),
                'csiq_label.txt ': lambda f: f.with_name('csiq_label.txt').write_text(''.join(f"{a.removesuffix('.png')} {b}\n" for a, b in zip(written.file, written.dmos))),
                'csiq_dmos.csv': lambda f: f.write_text(',,,\n' * 3 + ''.join(f",,,{','.join(map(str, r))}\n" for r in
                    [['image', 'dst_type', 'dst_lev', 'dmos'], *written.assign(dst_type=written.dst_type.map({'jpeg 2000': 'JPEG2000', 'fnoise': 'f.noise'}).fillna(written.dst_type))[['image', 'dst_type', 'dst_lev', 'dmos']].values.tolist()]))}
    for name, write in variants.items():
        folder = tmp_path/name
        shutil.copytree(tmp_path/'CSIQ'/'dst_imgs', folder/'dst_imgs_all')
        write(folder/name)                                                    # ('csiq_label.txt ': a label file without .png)
        if name == 'csiq_dmos.csv': (folder/'dst_imgs_all'/'blur').rename(folder/'dst_imgs_all'/'BLUR')
        table = read_csiq(folder)
        assert table.attrs['source'].endswith(name.strip())
        pd.testing.assert_frame_equal(table[['image_name', 'MOS', 'reference', 'distortion', 'level']], reference[['image_name', 'MOS', 'reference', 'distortion', 'level']])


def test_csiq_dmos_slightly_off_the_scale_is_clipped_farther_refused(tmp_path, tiny_demo):
    folder = make_csiq(tmp_path/'CSIQ', tiny_demo, xlsx=False)
    scores = pd.read_csv(folder/'csiq.DMOS.csv')
    scores.loc[[1, 2], 'dmos'] = [-0.02, 1.04]
    scores.to_csv(folder/'csiq.DMOS.csv', index=False)
    table = read_csiq(folder)
    assert table.attrs['clipped'] == 2 and table.MOS[1] == 100 and table.MOS[2] == 0 and table.DMOS[2] == 1.04
    scores.loc[2, 'dmos'] = 1.2
    scores.to_csv(folder/'csiq.DMOS.csv', index=False)
    with pytest.raises(InputError) as e: read_csiq(folder)
    assert all(w in one_sentence(e) for w in ("column 'dmos' holds 1.2 on line 4", "CSIQ's DMOS scale, 0 (best) to 1"))


def test_livec_excludes_its_seven_training_images_unless_asked(tmp_path, tiny_demo):
    folder = make_livec(tmp_path/'ChallengeDB_release', tiny_demo, n=20)
    table = read_livec(folder)
    check_ordinary(table, 'LIVE Challenge', 20)
    assert table.columns.tolist() == ORDINARY + ['MOS_std']
    assert table.image_name.tolist() == livec_names(20)[7:] and np.allclose(table.MOS, tiny_demo.MOS[7:27])   # 0-100 as released
    kept = read_livec(folder, training_images=True)
    check_ordinary(kept, 'LIVE Challenge', 27)
    assert kept.training_image.tolist() == [True] * 7 + [False] * 20
    assert kept.image_name[:7].tolist() == [f"t{k}.bmp" for k in range(1, 8)]
    assert all('/Images/trainingImages/' in p for p in kept.path[:7]) and '/Images/100.bmp' in kept.path[7]
    names = scipy.io.loadmat(folder/'Data'/'AllImages_release.mat')['AllImages_release']
    assert names.shape == (27, 1) and names[7][0][0] == '100.bmp'             # the shapes the release has, read as HyperIQA reads them
    assert scipy.io.loadmat(folder/'Data'/'AllMOS_release.mat')['AllMOS_release'].shape == (1, 27)


def test_kadid_higher_dmos_is_a_higher_score(tmp_path, tiny_demo):
    folder = make_kadid(tmp_path/'kadid10k', tiny_demo, n=30)
    table = read_kadid(folder)
    check_ordinary(table, 'KADID-10k', 30)
    assert table.columns.tolist() == ORDINARY + ['reference', 'distortion', 'level', 'DMOS', 'DMOS_var']
    assert np.allclose(table.MOS, (table.DMOS - 1) / 4 * 100) and table.DMOS.between(1, 5).all()
    assert table.MOS.iloc[table.DMOS.argsort()].is_monotonic_increasing
    assert table.image_name.tolist() == kadid_scores(tiny_demo, 30).dist_img.tolist()
    assert table.iloc[0][['image_name', 'reference', 'distortion', 'level']].tolist() == ['I01_01_01.png', 'I01.png', 'gaussian_blur', 1]
    assert table.distortion[24] == KADID_DISTORTIONS[24] == 'contrast_change' and table.level[25] == 2


@pytest.mark.parametrize('make, name, n', [(make_csiq, 'CSIQ', 18), (make_livec, 'LIVE Challenge', 20), (make_kadid, 'KADID-10k', 20)])
def test_read_test_dataset_recognises_each_layout(tmp_path, tiny_demo, make, name, n):
    folder = make(tmp_path/'set', tiny_demo)
    assert dataset_layout(folder) == name
    table = read_test_dataset(folder)
    assert table.attrs['label'] == name and len(table) == n
    pd.testing.assert_frame_equal(table, TEST_DATASETS[name](folder))


def test_read_test_dataset_reads_a_koniq_style_folder(tiny_demo):
    folder = tiny_demo.attrs['image_dir'].rsplit('/', 1)[0]
    assert dataset_layout(folder) == 'KonIQ-style'
    assert read_test_dataset(folder).image_name.tolist() == tiny_demo.image_name.tolist()


def _drop_scores(folder):
    for f in folder.glob('csiq*'): f.unlink()

def _garbage_mat(folder): (folder/'Data'/'AllMOS_release.mat').write_bytes(b'MATLAB 5.0 MAT-file, cut short')

def _other_variable(folder): scipy.io.savemat(folder/'Data'/'AllMOS_release.mat', {'MOS': np.ones((1, 27))})

def _drop_six_images(folder):
    for p in sorted((folder/'images').glob('I*_*_*.png'))[:6]: p.unlink()

def _drop_a_training_image(folder): (folder/'Images'/'trainingImages'/'t3.bmp').unlink()

def _one_stray_file(folder): shutil.rmtree(folder); folder.mkdir(); (folder/'notes.txt').write_text('not a dataset')

def _empty(folder): shutil.rmtree(folder); folder.mkdir()

def _no_dmos_column(folder): pd.read_csv(folder/'dmos.csv').rename(columns={'dmos': 'score'}).to_csv(folder/'dmos.csv', index=False)

def _bad_workbook(folder):
    _drop_scores(folder)
    (folder/'csiq.DMOS.xlsx').write_bytes(b'not a workbook')


BAD_FOLDERS = {   # what is done to a good miniature folder, how it is read, and the words of the one sentence
    'missing score file': (make_csiq, _drop_scores, read_test_dataset, ["CSIQ folder", "has no score file", "csiq.DMOS.xlsx"]),
    'missing .mat': (make_livec, lambda f: (f/'Data'/'AllMOS_release.mat').unlink(), read_livec, ["LIVE Challenge folder", "no score file 'Data/AllMOS_release.mat'"]),
    'missing dmos.csv': (make_kadid, lambda f: (f/'dmos.csv').unlink(), read_kadid, ["KADID-10k folder", "has no score file 'dmos.csv'", "dist_img, ref_img, dmos, var"]),
    'unreadable .mat': (make_livec, _garbage_mat, read_test_dataset, ["AllMOS_release.mat' cannot be read as a MATLAB .mat file"]),
    '.mat without its variable': (make_livec, _other_variable, read_livec, ["has no variable 'AllMOS_release' (it has MOS)"]),
    'score column missing': (make_kadid, _no_dmos_column, read_kadid, ["dmos.csv' has no column 'dmos'", "dist_img, ref_img, score, var"]),
    'images listed but absent': (make_kadid, _drop_six_images, read_test_dataset,
                                 ["6 of 20 images listed in", "dmos.csv' are missing from KADID-10k folder", "I01_01_01.png, I01_02_01.png", "and 1 more"]),
    'training image absent': (make_livec, _drop_a_training_image, lambda f: read_livec(f, training_images=True),
                              ["1 of 27 images listed in", "AllImages_release.mat' are missing from LIVE Challenge folder", "(t3.bmp)"]),
    'unknown layout': (make_kadid, _one_stray_file, read_test_dataset, ["matches none of the layouts koniq_lt reads", "CSIQ (dst_imgs/ beside csiq.DMOS.xlsx)",
                                                                       "LIVE Challenge (Images/ beside Data/AllMOS_release.mat)", "KADID-10k (images/ beside dmos.csv)", "KonIQ-style"]),
    'empty folder': (make_kadid, _empty, read_test_dataset, ["is empty; expected CSIQ"]),
    'no folder': (make_kadid, shutil.rmtree, read_test_dataset, ["does not exist or is not a folder"]),
}


@pytest.mark.parametrize('problem', BAD_FOLDERS)
def test_each_bad_folder_is_one_sentence_naming_it(tmp_path, tiny_demo, problem):
    make, spoil, read, words = BAD_FOLDERS[problem]
    folder = make(tmp_path/'set', tiny_demo)
    spoil(folder)
    with pytest.raises(InputError) as e: read(folder)
    message = one_sentence(e)
    assert str(folder) in message and all(w in message for w in words), message


def test_unreadable_workbook_is_one_sentence(tmp_path, tiny_demo):
    pytest.importorskip('openpyxl')
    folder = make_csiq(tmp_path/'CSIQ', tiny_demo, xlsx=False)
    _bad_workbook(folder)
    with pytest.raises(InputError) as e: read_csiq(folder)
    assert "csiq.DMOS.xlsx' cannot be read as an Excel workbook" in one_sentence(e)
    write_csiq_xlsx(folder/'csiq.DMOS.xlsx', csiq_scores(tiny_demo, 18))
    from openpyxl import load_workbook
    book = load_workbook(folder/'csiq.DMOS.xlsx')
    book['all_by_image'].title = 'Sheet1'
    book.save(folder/'csiq.DMOS.xlsx')
    with pytest.raises(InputError) as e: read_csiq(folder)
    assert "has no sheet 'all_by_image'" in one_sentence(e)


def test_the_readers_do_not_load_torch():
    code = "import sys, koniq_lt.testsets; assert 'torch' not in sys.modules, 'torch loaded'"
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True).returncode == 0


def test_a_photo_folder_with_images_named_like_kadid_is_not_kadid(tmp_path):
    (tmp_path/'images').mkdir()
    Image.new('RGB', (8, 8)).save(tmp_path/'images'/'IMG_2020_01_01.png')    # matches I*_*_*.png, but there is no dmos.csv
    assert dataset_layout(tmp_path) is None
