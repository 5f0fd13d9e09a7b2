"""Bad MOS tables, score ranges, split options and outputs given to the koniq-lt-split console script: it exits with status 2
and one sentence on stderr (naming the table when the table is at fault, never a traceback), and writes nothing.
All but two cases call the script's function in-process (`run_cli`: a console-script process takes 4 s to start
on 2 cores); those two run the installed console script itself."""
import numpy as np
import pytest
from conftest import run_script
from koniq_lt.split import koniq_lt_split

GOOD = "image_name,MOS\n" + ''.join(f"i{i}.jpg,{i*2.5}\n" for i in range(41))
_rng = np.random.default_rng(0)
ZERO_ONE = "image_name,MOS\n" + ''.join(f"i{i}.jpg,{v:.3f}\n" for i, v in enumerate(_rng.uniform(0, 1, 300)))
ONE_FIVE = ["image_name,MOS\n"] + [f"i{i}.jpg,{v:.2f}\n" for i, v in enumerate(_rng.uniform(1, 5, 300))]
TYPO = ''.join(ONE_FIVE[:6] + ["i5.jpg,5.2\n"] + ONE_FIVE[7:])          # one mistyped score, on line 7

CASES = {   # id: (table text or None for a missing file, extra args, words the message must hold)
    'missing file':      (None, [], ["does not exist"]),
    'unreadable csv':    ("image_name,MOS\na.jpg,50\nb.jpg,60,1,2\n", [], ["could not be read as a CSV file"]),
    'empty file':        ("", [], ["could not be read as a CSV file"]),
    'no rows':           ("image_name,MOS\n", [], ["has no rows"]),
    'missing column':    ("name,MOS\na.jpg,50\n", [], ["has no column 'image_name'", "--image_col"]),
    'missing score col': ("image_name,MOS\na.jpg,50\n", ['--score_col', 'score'], ["has no column 'score'"]),
    'nan MOS':           ("image_name,MOS\na.jpg,50\nb.jpg,\nc.jpg,NaN\n", [], ["column 'MOS' is empty (NaN) on lines 3, 4"]),
    'text MOS':          ("image_name,MOS\na.jpg,50\nb.jpg,great\n", [], ["column 'MOS' is not a number on line 3"]),
    'out of range':      ("image_name,MOS\na.jpg,50\nb.jpg,101\n", [], ["column 'MOS' is outside the score range [0, 100] on line 3"]),
    'out of 1-5 range':  ("image_name,MOS\na.jpg,3\nb.jpg,6\n", ['--score_range', '1,5'], ["outside the score range [1, 5] on line 3"]),
    '1-5 scale':         ("image_name,MOS\na.jpg,1.5\nb.jpg,4.2\n", [], ["looks like a 1-5 MOS", "--score_range 1,5"]),
    'duplicate names':   ("image_name,MOS\na.jpg,50\nb.jpg,60\na.jpg,70\n", [], ["names image 'a.jpg' more than once (lines 2, 4)"]),
    'blank name':        ("image_name,MOS\na.jpg,50\n ,60\n", [], ["column 'image_name' has no image name on line 3"]),
    'bad score range':   (GOOD, ['--score_range', '5-1'], ["not two comma-separated numbers"]),
    'inverted range':    (GOOD, ['--score_range', '5,1'], ["low < high"]),
    'schedule length':   (GOOD, ['--schedule', '0.1,0.5,0.9'], ["has 3 proportions but there are 20 bins"]),
    'schedule range':    (GOOD, ['--bins', 2, '--schedule', '0.5,1.5'], ["bin 1 is 1.5; every proportion must lie in [0, 1]"]),
    'schedule negative': (GOOD, ['--bins', 2, '--schedule=-0.1,0.5'], ["bin 0 is -0.1"]),
    'schedule word':     (GOOD, ['--schedule', 'steep'], ["neither 'linear', 'mirrored'"]),
    'zero bins':         (GOOD, ['--bins', 0], ["needs at least 2 bins, not 0"]),
    'unknown kind':      (GOOD, ['--kind', 'balanced'], ["not one of lt, random, official"]),
    'official w/o set':  (GOOD, ['--kind', 'official'], ["has no column 'set'"]),
    # scores on another scale than the declared (or default 0-100) one would all fall in one or two MOS bins
    '0-1 scale':         (ZERO_ONE, [], ["holds scores from 0 to 0.997, 1% of the score range [0, 100] (they would fill 1 of 20 equal MOS bins), "
                                         "which looks like a 0-1 MOS; declare it with --score_range 0,1"]),
    '1-5 with a typo':   (TYPO, [], ["which looks like a 1-5 MOS with 1 value outside it, 5.2 on line 7; correct it", "--score_range 1,5"]),
    '1-5 said 0-100':    (''.join(ONE_FIVE), ['--score_range', '0,100'], ["which looks like a 1-5 MOS; declare it with --score_range 1,5"]),
    'latin-1 table':     ("image_name,MOS\na.jpg,50\ncafé.jpg,60\n".encode('latin-1'), [],
                          ["is not UTF-8 text (byte 0xe9 on line 3", "save it as UTF-8"]),
    # options and outputs: checked before the table is read and before anything is written
    'negative seed':     (GOOD, ['--seed=-1'], ["The seed must be a whole number from 0 to 4294967295 (--seed), not -1."]),
    'seed of 2**32':     (GOOD, ['--seed', 2**32], ["not 4294967296"]),
    'too many bins':     (GOOD, ['--bins', 100_000_000], ["at least 1 and at most 1000 (--bins), not 100000000."]),
    'figure format':     (GOOD, ['--figure', '{tmp}/fig.xyz'], ["fig.xyz' ends in '.xyz', which is no image format matplotlib writes"]),
    'figure in a file':  (GOOD, ['--figure', '{table}/fig.png'], ["fig.png' cannot be written: '{table}' is a file, not a folder."]),
    'out in a file':     (GOOD, ['--out', '{table}/sub/split.csv'], ["split.csv' cannot be written: '{table}' is a file, not a folder."]),
    'out in /proc':      (GOOD, ['--out', '/proc/koniq_lt_test/split.csv'], ["cannot be written: folder '/proc' takes no new files"]),
    'out is a folder':   (GOOD, ['--out', '{tmp}'], ["is a folder; name a file to write."]),
}
TABLE_PROBLEMS = list(CASES)[:list(CASES).index('blank name') + 1] + ['inverted range', 'official w/o set', '0-1 scale',
                                                                       '1-5 with a typo', '1-5 said 0-100', 'latin-1 table']


@pytest.mark.parametrize('case', CASES)
def test_bad_input_is_one_clear_sentence(case, write_table, tmp_path, run_cli):
    text, args, words = CASES[case]
    table = tmp_path/'missing.csv' if text is None else write_table(text) if isinstance(text, str) else tmp_path/'table.csv'
    if isinstance(text, bytes): table.write_bytes(text)
    fill = lambda v: str(v).format(tmp=tmp_path, table=table)
    args, words = [fill(a) for a in args], [fill(w) for w in words]
    out = tmp_path/'split.csv'
    if case in ('missing file', 'schedule length'):                      # the installed console script itself
        res = run_script('koniq-lt-split', '--out', out, '--csv', table, *args)
    else: res = run_cli(koniq_lt_split, 'koniq-lt-split', '--out', out, '--csv', table, *args)
    assert res.returncode == 2, res.stdout + res.stderr
    message = res.stderr.strip()
    assert 'Traceback' not in message and len(message.splitlines()) == 1, message
    assert message.startswith('koniq-lt-split: error: ')
    for w in words: assert w in message, message
    if case in TABLE_PROBLEMS: assert f"'{table}'" in message, message   # a problem of the table names its file
    assert sorted(tmp_path.iterdir()) == ([] if text is None else [table])   # nothing written, no temporary file
