"""Miniature copies of the official layouts of the cross-dataset test sets (CSIQ, LIVE Challenge, KADID-10k), built from the
demo images for the tests: each builder converts a few demo images into the dataset's own file names and folders and writes
its score files in the dataset's own scale and direction, derived from the demo MOS (0-100, higher is better).

    from testsets_layouts import make_csiq, make_livec, make_kadid
    folder = make_kadid(tmp_path/'kadid10k', read_demo('tiny'))      # then koniq_lt.testsets.read_kadid(folder)

The layouts follow the datasets as their authors distribute them (see nbs/01b_testsets.ipynb for the sources):
CSIQ: dst_imgs/<awgn|blur|contrast|fnoise|jpeg|jpeg2000>/<reference>.<AWGN|BLUR|contrast|fnoise|JPEG|jpeg2000>.<level>.png,
src_imgs/<reference>.png and csiq.DMOS.xlsx (sheet 'all_by_image', header in row 4 from column D), DMOS 0-1, lower is better;
LIVE Challenge: Images/<name>, Images/trainingImages/t1.bmp..t7.bmp, Data/AllImages_release.mat (1169x1 cell),
Data/AllMOS_release.mat and Data/AllStdDev_release.mat (1x1169), MOS 0-100, higher is better;
KADID-10k: images/I01_01_01.png ... and images/I01.png, dmos.csv (dist_img, ref_img, dmos, var), DMOS 1-5, higher is better."""
import csv
from pathlib import Path
import numpy as np
import pandas as pd
import scipy.io
from PIL import Image

# CSIQ's distortion folders, their token in file names and their name in the workbook's dst_type column, in dst_idx order
CSIQ_KINDS = [('awgn', 'AWGN', 'noise'), ('jpeg', 'JPEG', 'jpeg'), ('jpeg2000', 'jpeg2000', 'jpeg 2000'),
              ('fnoise', 'fnoise', 'fnoise'), ('blur', 'BLUR', 'blur'), ('contrast', 'contrast', 'contrast')]
CSIQ_REFERENCES = ['1600', 'aerial_city', 'boston', 'bridge', 'butter_flower', 'cactus']   # CSIQ's first six (1600 is a number in the workbook)
CSIQ_COLUMNS = ['image', 'dst_idx', 'dst_type', 'dst_lev', 'dmos_std', 'dmos']


def _distorted(table: pd.DataFrame, n: int) -> pd.DataFrame:
    "The first `n` rows of `table` that are not pristine, with `ref`: the 0-based number of their reference in order of appearance."
    rows = table[table['distortion'] != 'pristine'] if 'distortion' in table else table
    rows = rows.head(n).reset_index(drop=True)
    refs = rows['reference'] if 'reference' in rows else pd.Series(np.arange(len(rows)) % 4)
    if len(rows) < n: raise ValueError(f"the table has only {len(rows)} distorted images, not {n}")
    return rows.assign(ref=pd.factorize(refs)[0])


def _convert(source, target: Path, **save) -> None:
    "Save the image `source` as `target` in the format its suffix names (PNG, BMP, JPEG)."
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as img: img.convert('RGB').save(target, **save)


def _references(table: pd.DataFrame, rows: pd.DataFrame) -> dict:
    "Reference number -> an image for it: the demo's pristine image of that reference if there is one, else its first distorted one."
    pristine = table[table['distortion'] == 'pristine'] if 'distortion' in table else table.iloc[:0]
    out = {}
    for ref, row in rows.groupby('ref').head(1).set_index('ref').iterrows():
        match = pristine[pristine['reference'] == row['reference']] if 'reference' in pristine else pristine.iloc[:0]
        out[ref] = match['path'].iloc[0] if len(match) else row['path']
    return out


def csiq_scores(table: pd.DataFrame, n: int = 18) -> pd.DataFrame:
    "The rows `make_csiq` writes for `table`: CSIQ's workbook columns (image, dst_idx, dst_type, dst_lev, dmos_std, dmos), plus folder, file, path."
    rows = _distorted(table, n)
    assert n <= 30, "one (distortion, level) per image: 6 x 5 at most"
    kind = [CSIQ_KINDS[i % 6] for i in range(len(rows))]
    out = pd.DataFrame({'image': [CSIQ_REFERENCES[r] for r in rows.ref], 'dst_idx': [i % 6 + 1 for i in range(len(rows))],
                        'dst_type': [k[2] for k in kind], 'dst_lev': [i // 6 % 5 + 1 for i in range(len(rows))],
                        'dmos_std': 0.05, 'dmos': (1 - rows['MOS'] / 100).round(6)})
    out['folder'] = [k[0] for k in kind]
    out['file'] = [f"{img}.{k[1]}.{lev}.png" for img, k, lev in zip(out.image, kind, out.dst_lev)]
    out['path'] = rows['path']
    return out


def write_csiq_xlsx(path, scores: pd.DataFrame) -> Path:
    "Write `scores` (CSIQ's workbook columns) as the authors' workbook does: sheet 'all_by_image', header in row 4 from column D, 1600 as a number."
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = 'all_by_image'
    sheet.cell(row=1, column=4, value='CSIQ DMOS (miniature written by the koniq_lt tests)')
    for j, name in enumerate(CSIQ_COLUMNS): sheet.cell(row=4, column=4 + j, value=name)
    for i, row in enumerate(scores[CSIQ_COLUMNS].itertuples(index=False)):
        for j, value in enumerate(row):
            value = int(value) if j == 0 and str(value).isdigit() else value.item() if hasattr(value, 'item') else value
            sheet.cell(row=5 + i, column=4 + j, value=value)
    book.save(path)
    return Path(path)


def _has_openpyxl() -> bool:
    try: import openpyxl  # noqa: F401
    except ImportError: return False
    return True


def make_csiq(folder, table: pd.DataFrame, n: int = 18, xlsx: bool | None = None, csv_export: bool = True) -> Path:
    """A miniature CSIQ in `folder` from `n` distorted images of `table` (up to 30): dst_imgs/<distortion>/ PNGs, src_imgs/ references,
    the scores as a CSV export of the workbook (csiq.DMOS.csv, `csv_export`) and as csiq.DMOS.xlsx (`xlsx`; None: when openpyxl is installed).
    DMOS = 1 - MOS/100 (0-1, lower is better)."""
    folder = Path(folder)
    scores = csiq_scores(table, n)
    for row in scores.itertuples(): _convert(row.path, folder/'dst_imgs'/row.folder/row.file)
    rows = _distorted(table, n)
    for ref, path in _references(table, rows).items(): _convert(path, folder/'src_imgs'/f"{CSIQ_REFERENCES[ref]}.png")
    if csv_export: scores[CSIQ_COLUMNS].to_csv(folder/'csiq.DMOS.csv', index=False)
    if xlsx or (xlsx is None and _has_openpyxl()): write_csiq_xlsx(folder/'csiq.DMOS.xlsx', scores)
    return folder


def livec_names(n: int = 20) -> list:
    "The names `make_livec` gives: t1.bmp..t7.bmp (training images), then `n` test images named as in the release (100.bmp, 101.JPG, ...)."
    return [f"t{k}.bmp" for k in range(1, 8)] + [f"{100 + i}.{'bmp' if i % 2 == 0 else 'JPG'}" for i in range(n)]


def _mat_cell(names) -> np.ndarray:
    "`names` as a (N, 1) object array, which scipy.io.savemat writes as a MATLAB cell array of strings."
    cell = np.empty((len(names), 1), dtype=object)
    for i, name in enumerate(names): cell[i, 0] = name
    return cell


def make_livec(folder, table: pd.DataFrame, n: int = 20) -> Path:
    """A miniature LIVE Challenge in `folder` from the first 7 + `n` images of `table`: Images/trainingImages/t1.bmp..t7.bmp, Images/ test
    images (BMP and JPEG), Data/AllImages_release.mat (N x 1 cell), Data/AllMOS_release.mat and Data/AllStdDev_release.mat (1 x N).
    MOS as in the demo (0-100, higher is better)."""
    folder, rows, names = Path(folder), table.head(7 + n), livec_names(n)
    if len(rows) < 7 + n: raise ValueError(f"the table has only {len(rows)} images, not {7 + n}")
    for i, (name, path) in enumerate(zip(names, rows['path'])):
        target = folder/'Images'/('trainingImages' if i < 7 else '')/name
        _convert(path, target, **({'format': 'JPEG', 'quality': 95} if name.endswith('.JPG') else {}))
    (folder/'Data').mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(folder/'Data'/'AllImages_release.mat', {'AllImages_release': _mat_cell(names)})
    scipy.io.savemat(folder/'Data'/'AllMOS_release.mat', {'AllMOS_release': rows['MOS'].to_numpy(float)[None]})
    scipy.io.savemat(folder/'Data'/'AllStdDev_release.mat', {'AllStdDev_release': np.full((1, len(names)), 18.5)})
    return folder


def kadid_scores(table: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    "The rows of dmos.csv `make_kadid` writes for `table` (dist_img, ref_img, dmos, var), plus the demo image's path."
    rows = _distorted(table, n)
    code, level = [i % 25 + 1 for i in range(len(rows))], [i // 25 % 5 + 1 for i in range(len(rows))]
    return pd.DataFrame({'dist_img': [f"I{r + 1:02d}_{c:02d}_{l:02d}.png" for r, c, l in zip(rows.ref, code, level)],
                         'ref_img': [f"I{r + 1:02d}.png" for r in rows.ref], 'dmos': (1 + 4 * rows['MOS'] / 100).round(2),
                         'var': 0.5, 'path': rows['path']})


def make_kadid(folder, table: pd.DataFrame, n: int = 20) -> Path:
    """A miniature KADID-10k in `folder` from `n` distorted images of `table`: images/I01_01_01.png ... and the references images/I01.png,
    and dmos.csv (dist_img, ref_img, dmos, var). DMOS = 1 + 4 × MOS/100 (1-5, higher is better)."""
    folder = Path(folder)
    scores = kadid_scores(table, n)
    for row in scores.itertuples(): _convert(row.path, folder/'images'/row.dist_img)
    rows = _distorted(table, n)
    for ref, path in _references(table, rows).items(): _convert(path, folder/'images'/f"I{ref + 1:02d}.png")
    scores.drop(columns='path').to_csv(folder/'dmos.csv', index=False, quoting=csv.QUOTE_MINIMAL)
    return folder
