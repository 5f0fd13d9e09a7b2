"""Bad MOS tables, score ranges and split schedules given to the koniq-lt-split console script: it exits with status 2 and
one sentence on stderr (naming the table when the table is at fault, never a traceback), and writes nothing.
All but two cases call the script's function in-process (`run_cli`: a console-script process takes 4 s to start
on 2 cores); those two run the installed console script itself."""
import pytest
from conftest import run_script
from koniq_lt.split import koniq_lt_split

GOOD = "image_name,MOS\n" + ''.join(f"i{i}.jpg,{i*2.5}\n" for i in range(41))

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
}
TABLE_PROBLEMS = list(CASES)[:list(CASES).index('blank name') + 1] + ['inverted range', 'official w/o set']


@pytest.mark.parametrize('case', CASES)
def test_bad_input_is_one_clear_sentence(case, write_table, tmp_path, run_cli):
    text, args, words = CASES[case]
    table = tmp_path/'missing.csv' if text is None else write_table(text)
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
    assert not out.exists()
