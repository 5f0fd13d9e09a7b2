"""Bad images and dataset folders, and the demo dataset: each problem is refused with one clear sentence naming the file and
the fix, other image modes are converted (not refused), and demo builds are deterministic, reused and never left half-written."""
import struct, warnings, zlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from conftest import one_sentence
from koniq_lt.core import InputError
from koniq_lt.demo import DEMO_PRESETS, build_demo
from koniq_lt.images import check_images, load_rgb
from koniq_lt.mos import read_iqa_folder


def noise_image(mode='RGB', size=(64, 48)):
    "A random image (so its JPEG is mostly compressed data, not header) in `mode`."
    a = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), np.uint8)
    return Image.fromarray(a).convert(mode)


@pytest.fixture
def dataset(tmp_path):
    "A KonIQ-style folder: mos.csv beside 512x384/ holding good.jpg; returns a function adding images and rows."
    (tmp_path/'512x384').mkdir()
    noise_image().save(tmp_path/'512x384'/'good.jpg', quality=95)
    def make(**files):
        for name, write in files.items(): write(tmp_path/'512x384'/name)
        names = ['good.jpg', *files]
        (tmp_path/'mos.csv').write_text('image_name,MOS\n' + ''.join(f'{n},{50 + i}\n' for i, n in enumerate(names)))
        return read_iqa_folder(tmp_path)
    return make


BAD = {   # name: (how to write it, reason check_images gives, phrase load_rgb gives)
    'missing.jpg':   (lambda p: None, 'missing', 'does not exist'),
    'text.jpg':      (lambda p: p.write_text('not an image at all'), 'not an image', 'is not an image file PIL can read'),
    'truncated.jpg': (lambda p: p.write_bytes(_jpeg_bytes()[:3000]), 'corrupt or truncated', 'is corrupt or truncated (image file is truncated'),
    'header.jpg':    (lambda p: p.write_bytes(_jpeg_bytes()[:200]), 'corrupt or truncated', 'is corrupt or truncated'),
    'garbled.jpg':   (lambda p: p.write_bytes(_jpeg_bytes()[:600] + b'\x00'*3000 + _jpeg_bytes()[3600:]), 'corrupt or truncated', 'is corrupt or truncated'),
    'truncated.png': (lambda p: (noise_image().save(p), p.write_bytes(p.read_bytes()[:2000])), 'corrupt or truncated', 'is corrupt or truncated'),
    'folder.jpg':    (lambda p: p.mkdir(), 'not a file', 'is not a file'),
}


def _jpeg_bytes():
    "A quality-95 JPEG of a random image (about 6 KB)."
    import io
    b = io.BytesIO(); noise_image().save(b, 'JPEG', quality=95); return b.getvalue()


@pytest.mark.parametrize('name', BAD)
def test_bad_image_load_rgb(name, dataset):
    table = dataset(**{name: BAD[name][0]})
    path = table.path.iloc[-1]
    with pytest.raises(InputError) as e: load_rgb(path)
    message = one_sentence(e)
    assert message.startswith(f"Image '{path}' {BAD[name][2]}"), message
    assert message.endswith("re-download it or remove it from the MOS table."), message


@pytest.mark.parametrize('decode', [False, True])
@pytest.mark.parametrize('name', BAD)
def test_bad_image_check_images(name, decode, dataset):
    table = dataset(**{name: BAD[name][0]})
    with pytest.raises(InputError) as e: check_images(table, decode=decode)
    assert one_sentence(e) == (f"1 of 2 images listed in '{table.attrs['source']}' cannot be used ({name}: {BAD[name][1]}); "
                               "fix or remove them before training.")


def test_check_images_reports_all_problems_at_once(dataset):
    table = dataset(**{f'gone{i}.jpg': BAD['missing.jpg'][0] for i in range(7)}, **{'text.jpg': BAD['text.jpg'][0]})
    with pytest.raises(InputError) as e: check_images(table)
    message = one_sentence(e)
    assert message.startswith("8 of 9 images listed in") and "(gone0.jpg: missing; gone1.jpg: missing;" in message
    assert "; and 3 more); fix or remove them before training." in message, message


CONVERTED = {   # name: (image to save, the RGB value its first pixel must have)
    'grey.png':     (Image.new('L', (8, 6), 77), (77, 77, 77)),
    'grey.jpg':     (Image.new('L', (8, 6), 77), (77, 77, 77)),
    'grey16.png':   (Image.fromarray(np.full((6, 8), 257*77, np.uint16)), (77, 77, 77)),
    'bilevel.png':  (Image.new('1', (8, 6), 1), (255, 255, 255)),
    'palette.png':  (Image.new('RGB', (8, 6), (10, 200, 30)).convert('P', palette=Image.Palette.ADAPTIVE), (10, 200, 30)),
    'palette.gif':  (Image.new('RGB', (8, 6), (10, 200, 30)).convert('P', palette=Image.Palette.ADAPTIVE), (10, 200, 30)),
    'cmyk.jpg':     (Image.new('CMYK', (8, 6), (0, 255, 255, 0)), (255, 0, 0)),
    'cmyk.tif':     (Image.new('CMYK', (8, 6), (0, 255, 255, 0)), (255, 0, 0)),
    'rgba.png':     (Image.new('RGBA', (8, 6), (0, 0, 0, 0)), (255, 255, 255)),          # transparent → white
    'rgba_half.png': (Image.new('RGBA', (8, 6), (0, 0, 0, 128)), (127, 127, 127)),       # half black over white
    'palette_alpha.png': (Image.new('P', (8, 6), 0), (255, 255, 255)),                # palette with a transparent entry
    'la.png':       (Image.new('LA', (8, 6), (0, 0)), (255, 255, 255)),
    'webp.webp':    (Image.new('RGB', (8, 6), (10, 200, 30)), (10, 200, 30)),
    'float01.tif':  (Image.fromarray(np.full((6, 8), 0.302, np.float32)), (77, 77, 77)),            # float within [0, 1]: x 255
    'float255.tif': (Image.fromarray(np.full((6, 8), 77, np.float32)), (77, 77, 77)),               # float within [0, 255]: as is
    'int32.tif':    (Image.fromarray(np.full((6, 8), 257 * 77, np.int32)), (77, 77, 77)),           # 32-bit above 255: 16-bit
    'grey16be.tif': (Image.frombytes('I;16B', (8, 6), np.full((6, 8), 257 * 77, '>u2').tobytes()), (77, 77, 77)),
}


@pytest.mark.parametrize('name', CONVERTED)
def test_other_modes_are_converted_not_refused(name, dataset):
    image, pixel = CONVERTED[name]
    options = {'.jpg': {'quality': 100}, '.png': {'transparency': 0} if image.mode == 'P' and 'alpha' in name else {}}
    table = dataset(**{name: lambda p: image.save(p, **options.get(p.suffix, {}))})
    check_images(table)
    check_images(table, decode=True)
    rgb = load_rgb(table.path.iloc[-1])
    assert rgb.mode == 'RGB' and rgb.size == (8, 6)
    assert np.abs(np.subtract(rgb.getpixel((0, 0)), pixel)).max() <= 3, rgb.getpixel((0, 0))


UNCONVERTIBLE = {   # name: (the one-channel pixels of a TIFF, the detail its sentence gives)
    'negative.tif': (np.array([[-3, 2.5]], np.float32), "mode F: pixel values from -3 to 2.5, not within 0-1 or 0-255"),
    'above255.tif': (np.array([[0, 300]], np.float32), "mode F: pixel values from 0 to 300, not within 0-1 or 0-255"),
    'nan.tif':      (np.array([[0.5, np.nan]], np.float32), "mode F: pixel values from 0.5 to 0.5 and 1 NaN or infinite, not within 0-1 or 0-255"),
    'int32.tif':    (np.array([[0, 70000]], np.int32), "mode I: pixel values from 0 to 70000, not within 0-255 or 0-65535"),
}


@pytest.mark.parametrize('name', UNCONVERTIBLE)
def test_wide_images_outside_every_rule_are_refused(name, dataset):
    pixels, detail = UNCONVERTIBLE[name]
    table = dataset(**{name: lambda p: Image.fromarray(pixels).save(p)})
    path = table.path.iloc[-1]
    with pytest.raises(InputError) as e: load_rgb(path)
    assert one_sentence(e) == f"Image '{path}' has a colour mode that cannot be converted to RGB ({detail}); re-download it or remove it from the MOS table."
    with pytest.raises(InputError) as e: check_images(table, decode=True)
    assert f"({name}: unconvertible); fix or remove them before training." in one_sentence(e)


def png_header(path, width, height):
    "A PNG of `width` x `height` grey pixels without pixel data: all `Image.open` reads (a 20000 x 20000 image in 57 bytes)."
    chunk = lambda kind, data: struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)) + chunk(b'IEND', b''))


def test_giant_image_is_one_sentence_without_pil_warning(dataset):
    table = dataset(**{'giant.png': lambda p: png_header(p, 20000, 20000), 'tenk.png': lambda p: png_header(p, 10000, 10000)})
    giant, tenk = table.path.iloc[1], table.path.iloc[2]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        with pytest.raises(InputError) as e: load_rgb(giant)
        assert one_sentence(e) == (f"Image '{giant}' is 20000x20000 (400 megapixels), above koniq_lt's limit of 100 megapixels; "
                                   "raise it with KONIQ_LT_MAX_PIXELS (or max_pixels=) if you mean it.")
        with pytest.raises(InputError) as e: load_rgb(tenk)                      # 100 megapixels: within the limit, decoded
        assert "is corrupt or truncated" in one_sentence(e)                     # (it has no pixel data)
        for decode in (False, True):
            with pytest.raises(InputError) as e: check_images(table, decode=decode)
            assert one_sentence(e) == (f"2 of 3 images listed in '{table.attrs['source']}' cannot be used (giant.png: too large, 20000x20000; "
                                       "tenk.png: corrupt or truncated); fix or remove them before training, or raise KONIQ_LT_MAX_PIXELS "
                                       "(or max_pixels=) above 100 megapixels for the large ones.")
    assert [str(w.message) for w in seen if issubclass(w.category, Image.DecompressionBombWarning)] == []


def test_pixel_limit_from_environment_and_parameter(dataset, monkeypatch):
    table = dataset()
    good = table.path.iloc[0]                                                    # 64 x 48: 3,072 pixels
    monkeypatch.setenv('KONIQ_LT_MAX_PIXELS', '3000')
    with pytest.raises(InputError) as e: load_rgb(good)
    assert one_sentence(e) == (f"Image '{good}' is 64x48 (0.003072 megapixels), above koniq_lt's limit of 0.003 megapixels; "
                               "raise it with KONIQ_LT_MAX_PIXELS (or max_pixels=) if you mean it.")
    with pytest.raises(InputError) as e: check_images(table)
    assert "(good.jpg: too large, 64x48)" in one_sentence(e) and "above 0.003 megapixels for the large ones." in one_sentence(e)
    assert load_rgb(good, max_pixels=3072).size == (64, 48)                      # the parameter wins
    check_images(table, max_pixels=3072)
    monkeypatch.setenv('KONIQ_LT_MAX_PIXELS', 'lots')
    with pytest.raises(InputError) as e: load_rgb(good)
    assert one_sentence(e) == "KONIQ_LT_MAX_PIXELS is 'lots', not a positive whole number of pixels; set it to e.g. 200000000 or unset it."


def test_pil_limit_neither_warns_nor_fails_first(dataset, monkeypatch):
    table = dataset()
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)                        # PIL: a warning above 1,000 pixels, an error above 2,000
    with warnings.catch_warnings():
        warnings.simplefilter('error', Image.DecompressionBombWarning)
        assert load_rgb(table.path.iloc[0]).size == (64, 48)
        check_images(table, decode=True)
    assert Image.MAX_IMAGE_PIXELS == 1000                                        # PIL's limit restored


def test_folder_problems(tmp_path):
    with pytest.raises(InputError) as e: read_iqa_folder(tmp_path/'nowhere')
    assert one_sentence(e) == f"Dataset folder '{tmp_path/'nowhere'}' does not exist or is not a folder."
    (tmp_path/'512x384').mkdir()
    with pytest.raises(InputError) as e: read_iqa_folder(tmp_path)
    assert "has no MOS table (looked for koniq10k_distributions_sets.csv, koniq10k_scores_and_distributions.csv, mos.csv)" in one_sentence(e)
    (tmp_path/'512x384').rmdir()
    (tmp_path/'mos.csv').write_text('image_name,MOS\na.jpg,50\n')
    (tmp_path/'images').mkdir()
    with pytest.raises(InputError) as e: read_iqa_folder(tmp_path)
    assert one_sentence(e) == f"Dataset folder '{tmp_path}' has no image folder named like 512x384 or 1024x768 beside 'mos.csv'."
    (tmp_path/'1024x768').mkdir()
    with pytest.raises(InputError) as e: read_iqa_folder(tmp_path, resolution='512x384')
    assert one_sentence(e) == f"Dataset folder '{tmp_path}' has no image folder '512x384' (it has 1024x768)."
    assert read_iqa_folder(tmp_path).attrs['resolution'] == '1024x768'


def test_koniq_layout_and_csv_preference(tmp_path):
    for res in ('1024x768', '512x384', '2048x1536x'): (tmp_path/res).mkdir()
    (tmp_path/'mos.csv').write_text('image_name,MOS\nother.jpg,50\n')
    (tmp_path/'koniq10k_scores_and_distributions.csv').write_text(
        'image_name,c1,c2,c3,c4,c5,c_total,MOS,SD,MOS_zscore\na.jpg,0,0,.5,.5,0,100,3.5,.5,62.5\n')
    t = read_iqa_folder(tmp_path)
    assert t.image_name.tolist() == ['a.jpg'] and t.MOS.tolist() == [62.5]           # the KonIQ CSV wins over mos.csv
    assert t.attrs['dataset'] == 'KonIQ-10k' and t.attrs['resolution'] == '512x384'
    assert t.path.tolist() == [str((tmp_path/'512x384'/'a.jpg').resolve())]
    assert t.attrs['source'] == str(tmp_path/'koniq10k_scores_and_distributions.csv')


def test_table_problems_surface(tmp_path):
    (tmp_path/'512x384').mkdir()
    (tmp_path/'mos.csv').write_text('image_name,MOS\na.jpg,50\nb.jpg,60\na.jpg,70\n')
    with pytest.raises(InputError) as e: read_iqa_folder(tmp_path)
    assert one_sentence(e).startswith(f"MOS table '{tmp_path/'mos.csv'}' column 'image_name' names image 'a.jpg' more than once (lines 2, 4)")
    (tmp_path/'mos.csv').write_text('image_name,MOS\na.jpg,50\nb.jpg,\n')
    with pytest.raises(InputError) as e: read_iqa_folder(tmp_path)
    assert "column 'MOS' is empty (NaN) on line 3" in one_sentence(e)


def test_check_images_needs_paths():
    with pytest.raises(InputError) as e: check_images(pd.DataFrame({'image_name': ['a.jpg'], 'MOS': [50.]}))
    assert "has no column 'path'; read the dataset with read_iqa_folder" in one_sentence(e)


def test_unknown_preset(tmp_path):
    with pytest.raises(InputError) as e: build_demo('large', cache_dir=tmp_path)
    assert one_sentence(e) == "The demo preset 'large' is not one of default, ci, tiny, scnn."
    assert not any(tmp_path.iterdir())


@pytest.fixture(scope='module')
def tiny_builds(tmp_path_factory):
    "The 'tiny' demo built twice, into two fresh folders."
    return [build_demo('tiny', cache_dir=tmp_path_factory.mktemp(f'cache{i}'), progress=False) for i in range(2)]


def test_tiny_demo_is_deterministic(tiny_builds):
    a, b = tiny_builds
    assert (a/'mos.csv').read_bytes() == (b/'mos.csv').read_bytes()
    assert (a/'dataset.txt').read_bytes() == (b/'dataset.txt').read_bytes()
    images = sorted(p.name for p in (a/'72x48').iterdir())
    assert images == sorted(p.name for p in (b/'72x48').iterdir()) and len(images) == 164
    for name in images[::10] + ['kodim01_v0_pristine_0.jpg', 'kodim19_v0_noise_5.jpg']:
        assert (a/'72x48'/name).read_bytes() == (b/'72x48'/name).read_bytes(), name


def test_tiny_demo_reads_like_koniq(tiny_builds):
    t = read_iqa_folder(tiny_builds[0])
    p = DEMO_PRESETS['tiny']
    assert len(t) == p['n_refs']*p['n_views']*41 == 164
    assert t.attrs['dataset'] == 'koniq_lt demo (Kodak-derived synthetic distortions; NOT KonIQ-10k)'
    assert list(t.columns) == ['image_name', 'MOS', 'reference', 'view', 'distortion', 'level', 'ssim', 'set', 'path']
    assert t.set.value_counts().to_dict() == {'training': 115, 'test': 33, 'validation': 16}
    assert t.MOS.between(3.9, 88.4).all() and t.groupby('level').MOS.mean().is_monotonic_decreasing
    assert t.sort_values(['ssim', 'image_name']).MOS.is_monotonic_increasing
    check_images(t, decode=True)
    assert all(load_rgb(path).size == (72, 48) for path in t.path[:5])


def test_existing_build_is_reused_force_rebuilds(tiny_builds, tmp_path):
    folder = build_demo('tiny', cache_dir=tmp_path, progress=False)
    (folder/'marker').write_text('x')
    assert build_demo('tiny', cache_dir=tmp_path) == folder and (folder/'marker').exists()
    assert build_demo('tiny', cache_dir=tmp_path, force=True, progress=False) == folder
    assert not (folder/'marker').exists()
    assert (folder/'mos.csv').read_bytes() == (tiny_builds[0]/'mos.csv').read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['demo-tiny']       # no temporary or old folder left


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    import koniq_lt.demo as ds
    def crash(*args): raise KeyboardInterrupt
    monkeypatch.setattr(ds, 'write_csv', crash)
    with pytest.raises(KeyboardInterrupt): build_demo('tiny', cache_dir=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []
