"""Bad input to the engine-independent commands (verilog, synth, pnr, board, sweep, argument errors).

Every row: exit status 2, one line on stderr naming the file/field/option, no traceback, inputs unchanged.
The engines' own rows are in tests/test_bad_input_<engine>.py.
"""

import hashlib
import json
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _sha(paths):
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths if Path(p).is_file()}


def _bad(tmp):
    """Files the rows use: a regular file (so file/x cannot be a folder), bad configs."""
    (tmp / "file").write_text("x")
    (tmp / "empty.json").write_text("")
    (tmp / "latin1.json").write_bytes(b'{"LOG_BATCH": "\xe9"}')
    (tmp / "list.json").write_text("[1, 2]")
    (tmp / "trunc.json").write_text('{"LOG_BATCH": ')
    (tmp / "unknown.json").write_text('{"LOG_BATCHES": 0}')
    (tmp / "range.json").write_text('{"LOG_BATCH": 9}')
    (tmp / "type.json").write_text('{"LOG_BATCH": "zero"}')
    return tmp


ROWS = [
    # (argv with {t} for the temp folder, words the one line must contain)
    (["verilog", "vta", "--out", "{t}/file/v"], ["file", "not a folder"]),
    (["verilog", "vta", "--out", "{t}/file"], ["file", "not a folder"]),
    (["verilog", "vta", "--config", "{t}/missing.json"], ["missing.json", "not found"]),
    (["verilog", "vta", "--config", "{t}/empty.json"], ["empty.json", "empty"]),
    (["verilog", "vta", "--config", "{t}/latin1.json"], ["latin1.json", "UTF-8"]),
    (["verilog", "vta", "--config", "{t}/list.json"], ["list.json", "object"]),
    (["verilog", "vta", "--config", "{t}/trunc.json"], ["trunc.json", "JSON"]),
    (["verilog", "vta", "--config", "{t}/unknown.json"], ["LOG_BATCHES"]),
    (["verilog", "vta", "--config", "{t}/range.json"], ["LOG_BATCH"]),
    (["verilog", "vta", "--config", "{t}/type.json"], ["LOG_BATCH"]),
    (["verilog", "vta", "--config", "{t}"], ["not a regular file"]),
    (["verilog", "tpu"], ["invalid choice", "tpu"]),
    (["synth", "vta", "--json", "{t}/file/r.json"], ["file", "not a folder"]),
    (["synth", "vta", "--config", "{t}/range.json"], ["LOG_BATCH"]),
    (["pnr", "vta", "--freq", "-5"], ["--freq", "-5"]),
    (["pnr", "vta", "--freq", "0"], ["--freq"]),
    (["pnr", "vta", "--freq", "abc"], ["--freq", "abc"]),
    (["pnr", "vta", "--seed", "-1"], ["--seed", "-1"]),
    (["pnr", "vta", "--router", "router9"], ["--router", "router9"]),
    (["board", "vta", "--board", "ulx3s", "--mem-bytes", "1099511627776"], ["--mem-bytes", "1,099,511,627,776"]),
    (["board", "vta", "--board", "ulx3s", "--mem-bytes", "0"], ["--mem-bytes"]),
    (["board", "vta", "--board", "de10"], ["--board", "de10"]),
    (["sweep", "vta", "--workers", "0"], ["--workers"]),
    (["sweep", "vta", "--limit", "-2"], ["--limit"]),
    (["sweep", "vta", "--out", "{t}/file/s"], ["file", "not a folder"]),
    (["sweep", "vta", "--space", "{t}/missing.json"], ["missing.json"]),
    (["sim", "vta"], ["--job"]),
    (["regress", "vta", "--random", "many"], ["--random", "many"]),
]


@pytest.mark.parametrize("argv,words", ROWS, ids=[" ".join(r[0])[:60] for r in ROWS])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, words):
    t = _bad(tmp_path)
    before = _sha(t.iterdir())
    argv = [a.replace("{t}", str(t)) for a in argv]
    try:
        rc = main(argv)
    except SystemExit as e:       # argparse
        rc = e.code
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("[accelgen]")]
    assert len(lines) == 1, err
    assert "Traceback" not in out + err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert _sha(t.iterdir()) == before


def test_verilog_failure_keeps_the_previous_output(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["verilog", "vta", "--config", str(ROOT / "configs/vta/b2x8x8_bus256.json"), "--out", str(out)]) == 0
    before = _sha(out.iterdir())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"LOG_BATCH": 9}))
    assert main(["verilog", "vta", "--config", str(bad), "--out", str(out)]) == 2
    assert _sha(out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "v"]    # no temporary folder left
