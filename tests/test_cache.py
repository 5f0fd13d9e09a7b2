"""The image cache checks itself: a damaged cache file is rebuilt with a note, a rewritten image (same size and mtime) is
decoded again, superseded caches and the temporaries of killed builds are removed, and a disk without room is one
sentence before the build, a disk that fills during it one sentence after, with no temporary file left."""
import os, shutil, signal, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np
import pytest
from PIL import Image
from conftest import one_sentence
import koniq_lt.images as images
from koniq_lt.core import HOST_TAG, InputError
from koniq_lt.images import CacheNote, cache_key, decode_resized, image_cache

SIZE = (24, 36)


def build(paths, folder, size=SIZE):
    "`image_cache` of `paths` in `folder`, without a progress bar; fails the test on any note it gives."
    with warnings.catch_warnings():
        warnings.simplefilter('error', CacheNote)
        return image_cache(paths, size, folder, progress=False)


def cache_files(folder):
    "Everything in `folder`, by name."
    return sorted(p.name for p in Path(folder).iterdir())


def damage_truncate(f):
    os.truncate(f, f.stat().st_size - 100)

def damage_shape(f):
    np.save(f, np.zeros((2, *SIZE, 3), np.uint8))

def damage_dtype(f):
    np.save(f, np.zeros((6, *SIZE, 3), np.float32))

def damage_garbage(f):
    f.write_bytes(b'not a numpy file at all')

def damage_empty(f):
    f.write_bytes(b'')


DAMAGE = {   # how the cache file is damaged: (damage, the words of the note)
    'truncated':   (damage_truncate, "(it has 15,580 bytes, not 15,680)"),
    'other shape': (damage_shape, "(it holds a 2x24x36x3 uint8 array, not 6x24x36x3 uint8)"),
    'other dtype': (damage_dtype, "(it holds a 6x24x36x3 float32 array, not 6x24x36x3 uint8)"),
    'garbage':     (damage_garbage, "(its header cannot be read: the magic string is not correct"),
    'empty':       (damage_empty, "(its header cannot be read: EOF"),
}


@pytest.mark.parametrize('kind', DAMAGE)
def test_damaged_cache_is_rebuilt_with_a_note(kind, tiny_demo, tmp_path):
    paths = list(tiny_demo.path[:6])
    target = Path(build(paths, tmp_path).filename)
    DAMAGE[kind][0](target)
    with pytest.warns(CacheNote) as notes: rebuilt = image_cache(paths, SIZE, tmp_path, progress=False)
    assert len(notes) == 1, [str(n.message) for n in notes]
    note = str(notes[0].message)
    assert note.startswith(f"The image cache '{target}' is damaged {DAMAGE[kind][1]}") and note.endswith("; rebuilding it."), note
    assert len(note.splitlines()) == 1
    assert rebuilt.shape == (6, *SIZE, 3) and rebuilt.dtype == np.uint8
    assert (rebuilt[5] == decode_resized(paths[5], SIZE)).all()
    assert cache_files(tmp_path) == [target.name]
    assert (build(paths, tmp_path) == rebuilt).all()                 # and reused, without a note, next time


def test_rewritten_image_with_same_size_and_mtime_is_decoded_again(tmp_path):
    folder, cache = tmp_path/'images', tmp_path/'cache'
    folder.mkdir()
    paths = [folder/'a.bmp', folder/'b.bmp']                          # BMP: the same size in bytes whatever the pixels
    for p in paths: Image.new('RGB', SIZE[::-1], (10, 20, 30)).save(p)
    first = np.asarray(build(paths, cache)).copy()
    st = paths[1].stat()
    Image.new('RGB', SIZE[::-1], (200, 100, 0)).save(paths[1])
    os.utime(paths[1], ns=(st.st_atime_ns, st.st_mtime_ns))            # the old mtime back
    assert (paths[1].stat().st_size, paths[1].stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    with pytest.warns(CacheNote, match="superseded"): second = image_cache(paths, SIZE, cache, progress=False)
    assert tuple(first[1, 0, 0]) == (10, 20, 30) and tuple(second[1, 0, 0]) == (200, 100, 0)
    assert (second[0] == first[0]).all()


def test_superseded_cache_is_removed_with_a_note(tiny_demo, tmp_path):
    folder, cache = tmp_path/'images', tmp_path/'cache'
    folder.mkdir()
    paths = [folder/Path(p).name for p in tiny_demo.path[:4]]
    for src, dst in zip(tiny_demo.path[:4], paths): dst.write_bytes(Path(src).read_bytes())
    old = Path(build(paths, cache).filename)
    other = Path(build(paths[:3], cache).filename)                      # other images: kept
    os.utime(paths[0], (time.time() + 5,) * 2)
    with pytest.warns(CacheNote) as notes: new = Path(image_cache(paths, SIZE, cache, progress=False).filename)
    assert [str(n.message) for n in notes] == [f"Removed the image cache '{old}', superseded: the same images, cached before they changed."]
    assert new != old and new.name.split('-')[0] == old.name.split('-')[0]   # the same images, another state
    assert cache_files(cache) == sorted([new.name, other.name])


def test_legacy_cache_name_is_superseded(tiny_demo, tmp_path):
    import hashlib
    paths = list(tiny_demo.path[:3])
    h = hashlib.sha1(repr(SIZE).encode())                               # the name koniq_lt gave before ctime counted
    for p in paths: h.update(f"{p}|{os.stat(p).st_size}|{os.stat(p).st_mtime_ns}\n".encode())
    legacy = tmp_path/f"{h.hexdigest()[:16]}_3x24x36.npy"
    np.save(legacy, np.zeros((3, *SIZE, 3), np.uint8))
    with pytest.warns(CacheNote, match="superseded"): new = image_cache(paths, SIZE, tmp_path, progress=False)
    assert cache_files(tmp_path) == [Path(new.filename).name]


def test_stale_temporaries_are_removed(tiny_demo, tmp_path):
    paths = list(tiny_demo.path[:3])
    target = f"{cache_key(paths, SIZE)}_3x24x36.npy"
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    gone = int(dead.stdout)                                            # a process that has ended
    stale = [f'.{target}.{gone}-{HOST_TAG}.0123abcd.tmp', f'.0000000000000000-1111111111111111_9x9x9.npy.{gone}-{HOST_TAG}.89abcdef.tmp', 'tmpold.npy.tmp']
    kept = [f'.{target}.{os.getpid()}-{HOST_TAG}.0123abcd.tmp', f'.{target}.{gone}-abcdef.0123abcd.tmp', 'tmpnew.npy.tmp']  # a running build's, and an old-style one of the last hour
    for name in stale + kept: (tmp_path/name).write_bytes(b'x' * 1000)
    os.utime(tmp_path/'tmpold.npy.tmp', (time.time() - 3700,) * 2)
    build(paths, tmp_path)
    assert cache_files(tmp_path) == sorted([target, *kept])


KILLED_BUILD = """
import sys, time
import koniq_lt.images as images
slow = images.decode_resized
images.decode_resized = lambda path, size: (time.sleep(0.5), slow(path, size))[1]
images.image_cache(sys.argv[1:], (24, 36), {folder!r}, workers=1, progress=False)
"""


def test_killed_build_leaves_a_temporary_the_next_build_removes(tiny_demo, tmp_path):
    paths = list(tiny_demo.path[:20])
    child = subprocess.Popen([sys.executable, '-c', KILLED_BUILD.format(folder=str(tmp_path)), *paths])
    try:
        deadline = time.time() + 30
        while not list(tmp_path.glob('.*.tmp')) and time.time() < deadline and child.poll() is None: time.sleep(0.05)
        time.sleep(0.3)                                                   # decoding: 0.5 s an image
    finally:
        child.send_signal(signal.SIGKILL); child.wait()
    left = [p.name for p in tmp_path.glob('.*.tmp')]                     # kill -9: nothing ran to remove it
    assert len(left) == 1 and f'.{child.pid}-{HOST_TAG}.' in left[0], left
    build(paths[:3], tmp_path)                                            # any build in the folder removes it
    assert not list(tmp_path.glob('.*.tmp'))


def test_cache_file_mode_follows_the_umask(tiny_demo, tmp_path):
    old = os.umask(0o022)
    try: target = Path(build(list(tiny_demo.path[:2]), tmp_path).filename)
    finally: os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_too_little_free_space_is_one_sentence_before_the_build(tiny_demo, tmp_path, monkeypatch):
    real = images.shutil.disk_usage
    monkeypatch.setattr(images.shutil, 'disk_usage', lambda folder: real(folder)._replace(free=5000))
    with pytest.raises(InputError) as e: image_cache(list(tiny_demo.path[:6]), SIZE, tmp_path, progress=False)
    assert one_sentence(e) == (f"The image cache of 6 images at 24x36 needs 15,680 bytes, but its folder '{tmp_path}' has 5,000 bytes free; "
                               "free disk space there, or pass cache_dir= a folder with room.")
    assert cache_files(tmp_path) == []


def test_full_disk_is_one_sentence_and_leaves_nothing(tiny_demo, small_disk, monkeypatch):
    paths = list(tiny_demo.path[:50])                                      # 50 x 128 x 128 x 3: 2.5 MB, more than the 2 MB disk
    with pytest.raises(InputError) as e: image_cache(paths, (128, 128), small_disk, progress=False)
    message = one_sentence(e)
    assert message.startswith("The image cache of 50 images at 128x128 needs 2,457,728 bytes (2.5 MB), but its folder") and "free disk space there" in message
    assert cache_files(small_disk) == []
    real = images.shutil.disk_usage                                       # the disk fills after the check (another process writes)
    monkeypatch.setattr(images.shutil, 'disk_usage', lambda folder: real(folder)._replace(free=10**12))
    with pytest.raises(InputError) as e: image_cache(paths, (128, 128), small_disk, progress=False)
    assert one_sentence(e) == (f"The disk of the image cache folder '{small_disk}' filled up while the cache of 50 images (2,457,728 bytes (2.5 MB)) "
                               "was written (No space left on device); free disk space there, or pass cache_dir= a folder with room.")
    assert cache_files(small_disk) == []
    fits = build(paths[:10], small_disk, (128, 128))                       # what fits is built
    assert fits.shape == (10, 128, 128, 3)
    del fits                                                               # its memory map holds the disk until closed
