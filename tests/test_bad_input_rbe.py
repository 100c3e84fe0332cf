"""Bad input to every ``accelgen`` command of the RBE: one row per failure kind.

Every row: exit status 2, stderr is one line naming the file or field, no traceback anywhere, the input files
unchanged (sha256). The runs use the golden backend or fail before any build, so the suite is fast.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.rbe.config import RBEConfig
from sw.rbe.job import write_job
from sw.rbe.layer import RBELayer

CFG = RBEConfig(N_CORES=1, BINCONV_WIDTH=8, PORT_WIDTH=256)
LAYER = RBELayer("3x3", 4, 3, 4, 8, 16, 5, 4, True, 6)


def _make_job(d: Path) -> Path:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 16, (5, 4, 8))
    w = rng.integers(-3, 4, (16, 3, 3, 8))
    return write_job(d, CFG, LAYER, x, w, rng.integers(1, 100, 16), rng.integers(-100, 100, 16))


def _json(d, edit):
    raw = json.loads((d / "job.json").read_text())
    edit(raw)
    (d / "job.json").write_text(json.dumps(raw))


def _npy_text(name, text):
    return lambda d: (d / name).write_bytes(text)


def _truncate(name):
    def f(d):
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[:len(data) - 7])
    return f


def _save(name, arr):
    return lambda d: np.save(d / name, arr)


def _config_file(content: bytes):
    def f(d):
        (d / "cfg.json").write_bytes(content)
        _json(d, lambda raw: (raw.pop("config"), raw.update(config_file="cfg.json")))
    return f


def _pickled(name):
    def f(d):
        np.save(d / name, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return f


def _rm(name):
    return lambda d: (d / name).unlink()


# (id, edit of the job folder, extra arguments (JOB and TMP are substituted), words in the message)
SIM_ROWS = [
    ("job-folder-missing", None, ["--job", "TMP/nosuch"], "job folder not found"),
    ("job-is-a-file", None, ["--job", "JOB/x.npy"], "a job is a folder"),
    ("job-json-missing", _rm("job.json"), [], "job.json: job file not found"),
    ("job-json-empty", _npy_text("job.json", b""), [], "job.json: job file is empty"),
    ("job-json-not-utf8", _npy_text("job.json", b'{"engine": "rbe\xff\xfe"}'), [], "job.json: job file is not UTF-8"),
    ("job-json-not-json", _npy_text("job.json", b"{engine: rbe"), [], "job.json: job file is not valid JSON"),
    ("job-json-a-list", _npy_text("job.json", b"[1, 2]"), [], "must hold a JSON object"),
    ("unknown-key", lambda d: _json(d, lambda r: r.update(colour=1)), [], "unknown key 'colour'"),
    ("missing-key", lambda d: _json(d, lambda r: r.pop("kappa")), [], "missing key 'kappa'"),
    ("wrong-engine", lambda d: _json(d, lambda r: r.update(engine="vta")), [], "engine must be 'rbe'"),
    ("config-unknown-key", lambda d: _json(d, lambda r: r["config"].update(N_PE=4)), [],
     "config: unknown RBE config key 'N_PE'"),
    ("config-out-of-range", lambda d: _json(d, lambda r: r["config"].update(PORT_WIDTH=300)), [],
     "config: PORT_WIDTH must be one of"),
    ("config-file-missing", lambda d: _json(d, lambda r: (r.pop("config"), r.update(config_file="cfg.json"))), [],
     "cfg.json: config file not found"),
    ("config-file-empty", _config_file(b""), [], "cfg.json: config file is empty"),
    ("config-file-not-utf8", _config_file(b"\xff\xfe{}"), [], "cfg.json: config file is not UTF-8"),
    ("config-file-not-json", _config_file(b"N_CORES = 9"), [], "cfg.json: config file is not valid JSON"),
    ("config-file-bad-value", _config_file(b'{"N_CORES": 5}'), [], "cfg.json: N_CORES must be one of"),
    ("precision-9-bits", lambda d: _json(d, lambda r: r["layer"].update(qa=9)), [], "layer.qa must be an integer"),
    ("precision-1-bit", lambda d: _json(d, lambda r: r["layer"].update(qw=1)), [], "layer.qw must be an integer"),
    ("precision-not-int", lambda d: _json(d, lambda r: r["layer"].update(qao=4.5)), [], "layer.qao"),
    ("mode-5x5", lambda d: _json(d, lambda r: r["layer"].update(mode="5x5")), [], "layer.mode must be one of"),
    ("channels-not-tile", lambda d: _json(d, lambda r: r["layer"].update(k_in=12)), [],
     "layer.k_in=12 must be a multiple of 8"),
    ("channels-zero", lambda d: _json(d, lambda r: r["layer"].update(k_out=0)), [], "layer.k_out must be a positive"),
    ("height-negative", lambda d: _json(d, lambda r: r["layer"].update(height=-5)), [], "layer.height"),
    ("image-smaller-than-filter", lambda d: _json(d, lambda r: r["layer"].update(width=2)), [], "layer.width"),
    ("shift-64", lambda d: _json(d, lambda r: r["layer"].update(shift=64)), [], "layer.shift"),
    ("relu-not-bool", lambda d: _json(d, lambda r: r["layer"].update(relu=1)), [], "layer.relu"),
    ("accumulator-overflow", lambda d: _json(d, lambda r: r["layer"].update(qa=8, qw=8, k_in=4096)), [],
     "overflows the 32-bit signed accumulator"),
    ("does-not-fit-memory", lambda d: _json(d, lambda r: r["layer"].update(height=4096, width=4096, k_in=64)), [],
     "more than the simulated 16,777,216"),
    ("cycle-limit-zero", lambda d: _json(d, lambda r: r.update(cycle_limit=0)), [], "cycle_limit must be"),
    ("cycle-limit-not-int", lambda d: _json(d, lambda r: r.update(cycle_limit="lots")), [], "cycle_limit must be"),
    ("array-name-not-string", lambda d: _json(d, lambda r: r.update(x=3)), [], "x must be a file name"),
    ("x-missing", _rm("x.npy"), [], "x.npy: x file not found"),
    ("x-empty", _npy_text("x.npy", b""), [], "x.npy: x file is empty"),
    ("x-truncated", _truncate("x.npy"), [], "x.npy: x: not a valid .npy array"),
    ("x-not-npy", _npy_text("x.npy", b"1 2 3 4\n"), [], "x.npy: x: not a valid .npy array"),
    ("x-object-array", _pickled("x.npy"), [], "x.npy: x: object arrays are not allowed"),
    ("x-float", _save("x.npy", np.zeros((5, 4, 8), np.float32)), [], "x.npy: x: dtype float32 not allowed"),
    ("x-bool", _save("x.npy", np.zeros((5, 4, 8), bool)), [], "x.npy: x: dtype bool not allowed"),
    ("x-wrong-shape", _save("x.npy", np.zeros((4, 5, 8), np.uint8)), [], "x.npy: x: shape must be (5, 4, 8)"),
    ("x-out-of-range", _save("x.npy", np.full((5, 4, 8), 16, np.uint8)), [], "x.npy: x[0, 0, 0] = 16 is outside QA=4"),
    ("x-negative", _save("x.npy", np.full((5, 4, 8), -1, np.int8)), [], "x.npy: x[0, 0, 0] = -1 is outside QA=4"),
    ("w-asymmetric-min", _save("w.npy", np.full((16, 3, 3, 8), -4, np.int8)), [], "w.npy: w[0, 0, 0, 0] = -4"),
    ("w-npz", lambda d: (np.savez(d / "w.npz", a=np.zeros(3)), (d / "w.npz").replace(d / "w.npy")), [],
     "w.npy: w: not a valid .npy array (an .npz archive)"),
    ("kappa-too-large", _save("kappa.npy", np.full(16, 70000, np.int64)), [], "kappa.npy: kappa[0] = 70000"),
    ("lambda-truncated", _truncate("lambda.npy"), [], "lambda.npy: lambda: not a valid .npy array"),
    ("lambda-wrong-rank", _save("lambda.npy", np.zeros((16, 1), np.int32)), [], "lambda.npy: lambda: shape must be"),
    # options
    ("latency-0", None, ["--latency", "0"], "--latency must be 1..65535, not 0"),
    ("latency-70000", None, ["--latency", "70000"], "--latency must be 1..65535, not 70000"),
    ("latency-0-rtl", None, ["--latency", "0", "--backend", "rtl"], "--latency must be 1..65535"),
    ("cycle-limit-negative", None, ["--cycle-limit", "-1"], "--cycle-limit must be"),
    ("cycle-limit-zero-option", None, ["--cycle-limit", "0", "--backend", "rtl"], "--cycle-limit must be"),
    ("seed-negative", None, ["--seed", "-1"], "--seed must be"),
    # output paths
    ("out-under-a-file", None, ["--out", "TMP/afile/out"], "is not a folder"),
    ("out-is-a-file", None, ["--out", "TMP/afile"], "output path exists and is not a folder"),
    ("out-unwritable", None, ["--out", "/proc/accelgen-out"], "cannot create the output folder"),
    ("out-read-only-folder", None, ["--out", "TMP/ro/out"], "is not writable"),
    ("out-is-the-job", None, ["--out", "JOB"], "--out is (inside) the input"),
    ("out-inside-the-job", None, ["--out", "JOB/sub/out"], "--out is (inside) the input"),
    ("out-holds-the-job", None, ["--out", "TMP"], "--out holds the input"),
]


def _sha(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _check(capsys, argv, words, inputs):
    before = _sha(inputs)
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 2, f"exit {rc}; stdout {cap.out!r}; stderr {cap.err!r}"
    assert "Traceback" not in cap.out + cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, f"stderr must be one line, got {cap.err!r}"
    assert words in lines[0], f"{words!r} not in {lines[0]!r}"
    after = _sha(inputs)
    changed = [k for k, v in before.items() if after.get(k) != v]
    assert not changed, f"input files changed: {changed}"


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    yield tmp_path
    ro.chmod(0o755)


def _argv(args, job, tmp):
    return [a.replace("JOB", str(job)).replace("TMP", str(tmp)) for a in args]


@pytest.mark.parametrize("edit,args,words", [r[1:] for r in SIM_ROWS], ids=[r[0] for r in SIM_ROWS])
def test_sim(tmp, capsys, edit, args, words):
    if "read-only" in words or args[-1:] == ["TMP/ro/out"]:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders (the /proc row covers an unwritable path)")
    job = _make_job(tmp / "job")
    if edit is not None:
        edit(job)
    argv = ["sim", "rbe", "--job", str(job), "--backend", "golden"]
    argv += _argv(args, job, tmp)
    _check(capsys, argv, words, job)


CONFIG_ROWS = [
    ("config-missing", None, "TMP/nosuch.json", "nosuch.json"),
    ("config-empty", b"", "TMP/c.json", "c.json: config file is empty"),
    ("config-not-utf8", b"\xff\xfe{}", "TMP/c.json", "c.json: config file is not UTF-8"),
    ("config-not-json", b"{N_CORES: 9", "TMP/c.json", "c.json: config file is not valid JSON"),
    ("config-unknown-key", b'{"N_PE": 4}', "TMP/c.json", "unknown RBE config key 'N_PE'"),
    ("config-out-of-range", b'{"ACC_WIDTH": 40}', "TMP/c.json", "ACC_WIDTH must be one of"),
]


@pytest.mark.parametrize("command", ["regress", "verilog"])
@pytest.mark.parametrize("content,path,words", [r[1:] for r in CONFIG_ROWS], ids=[r[0] for r in CONFIG_ROWS])
def test_config(tmp, capsys, command, content, path, words):
    path = path.replace("TMP", str(tmp))
    if content is not None:
        Path(path).write_bytes(content)
    _check(capsys, [command, "rbe", "--config", path], words, tmp)


VERILOG_OUT_ROWS = [
    ("out-under-a-file", "TMP/afile/v", "is not a folder"),
    ("out-unwritable", "/proc/accelgen-verilog", "cannot create the output folder"),
]


@pytest.mark.parametrize("out,words", [r[1:] for r in VERILOG_OUT_ROWS], ids=[r[0] for r in VERILOG_OUT_ROWS])
def test_verilog_output_path(tmp, capsys, out, words):
    _check(capsys, ["verilog", "rbe", "--out", out.replace("TMP", str(tmp))], words, tmp)


REGRESS_ROWS = [
    ("latency-0", ["--latency", "0"], "--latency must be 1..65535, not 0"),
    ("latency-70000", ["--latency", "70000"], "--latency must be 1..65535"),
    ("unknown-testcase", ["--testcase", "precision_gird"], "--testcase: no test 'precision_gird'"),
    ("random-negative", ["--random", "-1"], "--random must be 0..343"),
    ("seed-negative", ["--seed", "-3"], "--seed must be"),
]


@pytest.mark.parametrize("args,words", [r[1:] for r in REGRESS_ROWS], ids=[r[0] for r in REGRESS_ROWS])
def test_regress_options(tmp, capsys, args, words):
    _check(capsys, ["regress", "rbe", *args], words, tmp)


def test_failed_run_keeps_the_previous_results(tmp, capsys):
    job = _make_job(tmp / "job")
    out = tmp / "out"
    assert main(["sim", "rbe", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 0
    before = _sha(out)
    _json(job, lambda r: r["layer"].update(qa=9))
    _check(capsys, ["sim", "rbe", "--job", str(job), "--backend", "golden", "--out", str(out)], "layer.qa", job)
    assert _sha(out) == before
    _check(capsys, ["sim", "rbe", "--job", str(job), "--backend", "golden", "--out", str(out), "--latency", "0"],
           "--latency", job)
    assert _sha(out) == before


def test_row_count():
    assert len(SIM_ROWS) + 2 * len(CONFIG_ROWS) + len(VERILOG_OUT_ROWS) + len(REGRESS_ROWS) >= 25
