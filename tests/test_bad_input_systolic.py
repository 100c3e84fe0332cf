"""Bad input to every ``accelgen`` command of the systolic array: one row per failure kind.

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
from sw.systolic.config import SystolicConfig
from sw.systolic.job import write_conv_job, write_gemm_job
from sw.systolic.layer import ConvLayer

CFG = SystolicConfig(R=4, C=4, W=2, MEM_DEPTH=256, ACC_DEPTH=256, WGT_DEPTH=64)
LAYER = ConvLayer(1, 6, 5, 3, 4, 3, 3, 2, 1)


def _make_job(d: Path) -> Path:
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, (1, 6, 5, 3), dtype=np.int8)
    w = rng.integers(-128, 128, (3, 3, 3, 4), dtype=np.int8)
    return write_conv_job(d, CFG, LAYER, x, w)


def _make_gemm(d: Path) -> Path:
    rng = np.random.default_rng(4)
    return write_gemm_job(d, CFG, rng.integers(-128, 128, (7, 5), dtype=np.int8),
                          rng.integers(-128, 128, (5, 3), dtype=np.int8))


def _json(d, edit):
    raw = json.loads((d / "job.json").read_text())
    edit(raw)
    (d / "job.json").write_text(json.dumps(raw))


def _bytes(name, data):
    return lambda d: (d / name).write_bytes(data)


def _truncate(name):
    def f(d):
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[:len(data) - 5])
    return f


def _save(name, arr):
    return lambda d: np.save(d / name, arr)


def _config_file(content: bytes):
    def f(d):
        (d / "cfg.json").write_bytes(content)
        _json(d, lambda raw: (raw.pop("config"), raw.update(config_file="cfg.json")))
    return f


def _rm(name):
    return lambda d: (d / name).unlink()


def _layer(**kw):
    return lambda d: _json(d, lambda r: r["layer"].update(**kw))


# (id, job kind, edit of the job folder, extra arguments (JOB and TMP are substituted), words in the message)
SIM_ROWS = [
    ("job-folder-missing", "conv", None, ["--job", "TMP/nosuch"], "job folder not found"),
    ("job-is-a-file", "conv", None, ["--job", "JOB/ifmap.npy"], "a job is a folder"),
    ("job-json-missing", "conv", _rm("job.json"), [], "job.json: job file not found"),
    ("job-json-empty", "conv", _bytes("job.json", b""), [], "job.json: job file is empty"),
    ("job-json-not-utf8", "conv", _bytes("job.json", b'{"engine": "sys\xff"}'), [], "job file is not UTF-8"),
    ("job-json-not-json", "conv", _bytes("job.json", b'{"engine": '), [], "job file is not valid JSON"),
    ("job-json-a-number", "conv", _bytes("job.json", b"42"), [], "must hold a JSON object"),
    ("unknown-key", "conv", lambda d: _json(d, lambda r: r.update(colour=1)), [], "unknown key 'colour'"),
    ("missing-key", "conv", lambda d: _json(d, lambda r: r.pop("weights")), [], "missing key 'weights'"),
    ("wrong-engine", "conv", lambda d: _json(d, lambda r: r.update(engine="rbe")), [], "engine must be 'systolic'"),
    ("config-unknown-key", "conv", lambda d: _json(d, lambda r: r["config"].update(ROWS=4)), [],
     "config: unknown systolic config key 'ROWS'"),
    ("config-out-of-range", "conv", lambda d: _json(d, lambda r: r["config"].update(W=5)), [],
     "config: W must be one of"),
    ("config-file-missing", "conv", lambda d: _json(d, lambda r: (r.pop("config"), r.update(config_file="c.json"))),
     [], "c.json: config file not found"),
    ("config-file-empty", "conv", _config_file(b""), [], "cfg.json: config file is empty"),
    ("config-file-not-utf8", "conv", _config_file(b"\xff{}"), [], "cfg.json: config file is not UTF-8"),
    ("config-file-not-json", "conv", _config_file(b"R=4"), [], "cfg.json: config file is not valid JSON"),
    ("config-file-bad-value", "conv", _config_file(b'{"R": 1}'), [], "cfg.json: R must be one of"),
    ("batch-0", "conv", _layer(batch=0), [], "layer.batch must be an integer >= 1, not 0"),
    ("negative-height", "conv", _layer(height=-4), [], "layer.height must be an integer >= 1"),
    ("stride-0", "conv", _layer(stride=0), [], "layer.stride must be an integer >= 1, not 0"),
    ("pad-negative", "conv", _layer(pad=-1), [], "layer.pad must be an integer >= 0"),
    ("pad-not-below-kernel", "conv", _layer(pad=3), [], "layer.pad must be smaller than the kernel"),
    ("kernel-larger-than-input", "conv", _layer(kernel_h=9, pad=0), [], "does not fit"),
    ("size-not-int", "conv", _layer(width=5.0), [], "layer.width must be an integer"),
    ("layer-unknown-key", "conv", _layer(dilation=2), [], "layer: unknown key 'dilation'"),
    ("layer-missing-key", "conv", lambda d: _json(d, lambda r: r["layer"].pop("kernel_w")), [],
     "layer: missing key 'kernel_w'"),
    ("layer-too-large", "conv", _layer(batch=1, height=1000, width=1000, in_channels=100), [],
     "more than the 67,108,864"),
    ("huge-loop-bounds", "conv", _layer(height=100000, width=3, kernel_h=1, kernel_w=1, pad=0), [],
     "more than the 1,024 rows / 1,048,576 positions"),
    ("gemm-huge-m", "gemm", lambda d: _json(d, lambda r: r["gemm"].update(m=5_000_000)), [], "positions"),
    ("does-not-fit-memories", "conv", lambda d: (_json(d, lambda r: (r["config"].update(MEM_DEPTH=64, ACC_DEPTH=16),
                                                                   r["layer"].update(width=300))),
                                                 np.save(d / "ifmap.npy", np.zeros((1, 6, 300, 3), np.int8))),
     [], "cannot be tiled into this configuration: MEM_DEPTH/ACC_DEPTH"),
    ("weights-do-not-fit-bank", "conv", lambda d: _json(d, lambda r: r["config"].update(WGT_DEPTH=4)), [],
     "WGT_DEPTH: one output-channel fold needs"),
    ("cycle-limit-zero", "conv", lambda d: _json(d, lambda r: r.update(cycle_limit=0)), [], "cycle_limit must be"),
    ("cycle-limit-huge", "conv", lambda d: _json(d, lambda r: r.update(cycle_limit=1 << 50)), [],
     "cycle_limit must be"),
    ("file-name-not-string", "conv", lambda d: _json(d, lambda r: r.update(ifmap=["x"])), [],
     "ifmap must be a .npy file name"),
    ("ifmap-missing", "conv", _rm("ifmap.npy"), [], "ifmap.npy: ifmap file not found"),
    ("ifmap-empty", "conv", _bytes("ifmap.npy", b""), [], "ifmap.npy: ifmap file is empty"),
    ("ifmap-truncated", "conv", _truncate("ifmap.npy"), [], "ifmap.npy: ifmap: not a valid .npy array"),
    ("ifmap-not-npy", "conv", _bytes("ifmap.npy", b"\x00\x01garbage"), [], "ifmap.npy: ifmap: not a valid .npy"),
    ("ifmap-object", "conv", lambda d: np.save(d / "ifmap.npy", np.array([None]), allow_pickle=True), [],
     "ifmap.npy: ifmap: object arrays are not allowed"),
    ("ifmap-float", "conv", _save("ifmap.npy", np.zeros((1, 6, 5, 3), np.float64)), [],
     "ifmap.npy: ifmap: dtype float64 not allowed"),
    ("ifmap-wrong-shape", "conv", _save("ifmap.npy", np.zeros((1, 5, 6, 3), np.int8)), [],
     "ifmap.npy: ifmap: shape must be (1, 6, 5, 3)"),
    ("weights-out-of-int8", "conv", _save("weights.npy", np.full((3, 3, 3, 4), 128, np.int16)), [],
     "weights.npy: weights: values must lie in -128..127, found 128..128"),
    ("weights-npz", "conv", lambda d: (np.savez(d / "w.npz", a=np.zeros(2)), (d / "w.npz").replace(d / "weights.npy")),
     [], "weights.npy: weights: not a valid .npy array (an .npz archive)"),
    ("gemm-bad-keys", "gemm", lambda d: _json(d, lambda r: r["gemm"].update(l=3)), [],
     "gemm must be an object with exactly the keys m, n, k"),
    ("gemm-m-0", "gemm", lambda d: _json(d, lambda r: r["gemm"].update(m=0)), [], "gemm.m must be an integer >= 1"),
    ("gemm-a-wrong-shape", "gemm", _save("a.npy", np.zeros((5, 7), np.int8)), [], "a.npy: a: shape must be (7, 5)"),
    ("gemm-b-truncated", "gemm", _truncate("b.npy"), [], "b.npy: b: not a valid .npy array"),
    ("gemm-missing-b", "gemm", lambda d: _json(d, lambda r: r.pop("b")), [], "missing key 'b'"),
    # options
    ("latency-0", "conv", None, ["--latency", "0"], "--latency must be 1..65535, not 0"),
    ("latency-70000", "conv", None, ["--latency", "70000", "--backend", "rtl"], "--latency must be 1..65535"),
    ("cycle-limit-negative", "conv", None, ["--cycle-limit", "-5"], "--cycle-limit must be"),
    ("seed-too-large", "conv", None, ["--seed", str(1 << 40)], "--seed must be"),
    # output paths
    ("out-under-a-file", "conv", None, ["--out", "TMP/afile/out"], "is not a folder"),
    ("out-is-a-file", "conv", None, ["--out", "TMP/afile"], "output path exists and is not a folder"),
    ("out-unwritable", "conv", None, ["--out", "/proc/accelgen-out"], "cannot create the output folder"),
    ("out-read-only-folder", "conv", None, ["--out", "TMP/ro/out"], "is not writable"),
    ("out-is-the-job", "conv", None, ["--out", "JOB"], "--out is (inside) the input"),
    ("out-inside-the-job", "conv", None, ["--out", "JOB/o"], "--out is (inside) the input"),
    ("out-holds-the-job", "conv", None, ["--out", "TMP"], "--out holds the input"),
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


@pytest.mark.parametrize("kind,edit,args,words", [r[1:] for r in SIM_ROWS], ids=[r[0] for r in SIM_ROWS])
def test_sim(tmp, capsys, kind, edit, args, words):
    if args[-1:] == ["TMP/ro/out"] and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders (the /proc row covers an unwritable path)")
    job = (_make_gemm if kind == "gemm" else _make_job)(tmp / "job")
    if edit is not None:
        edit(job)
    argv = ["sim", "systolic", "--job", str(job), "--backend", "golden"]
    argv += [a.replace("JOB", str(job)).replace("TMP", str(tmp)) for a in args]
    _check(capsys, argv, words, job)


CONFIG_ROWS = [
    ("config-missing", None, "TMP/nosuch.json", "nosuch.json"),
    ("config-empty", b"", "TMP/c.json", "c.json: config file is empty"),
    ("config-not-utf8", b"\xff\xfe{}", "TMP/c.json", "c.json: config file is not UTF-8"),
    ("config-not-json", b"{R: 4", "TMP/c.json", "c.json: config file is not valid JSON"),
    ("config-unknown-key", b'{"ROWS": 4}', "TMP/c.json", "unknown systolic config key 'ROWS'"),
    ("config-out-of-range", b'{"R": 200}', "TMP/c.json", "R must be one of"),
]


@pytest.mark.parametrize("command", ["regress", "verilog"])
@pytest.mark.parametrize("content,path,words", [r[1:] for r in CONFIG_ROWS], ids=[r[0] for r in CONFIG_ROWS])
def test_config(tmp, capsys, command, content, path, words):
    path = path.replace("TMP", str(tmp))
    if content is not None:
        Path(path).write_bytes(content)
    _check(capsys, [command, "systolic", "--config", path], words, tmp)


VERILOG_OUT_ROWS = [
    ("out-under-a-file", "TMP/afile/v", "is not a folder"),
    ("out-unwritable", "/proc/accelgen-verilog", "cannot create the output folder"),
]


@pytest.mark.parametrize("out,words", [r[1:] for r in VERILOG_OUT_ROWS], ids=[r[0] for r in VERILOG_OUT_ROWS])
def test_verilog_output_path(tmp, capsys, out, words):
    _check(capsys, ["verilog", "systolic", "--out", out.replace("TMP", str(tmp))], words, tmp)


REGRESS_ROWS = [
    ("latency-0", ["--latency", "0"], "--latency must be 1..65535, not 0"),
    ("latency-70000", ["--latency", "70000"], "--latency must be 1..65535"),
    ("unknown-testcase", ["--testcase", "gemm_100x50x3"], "--testcase: no test 'gemm_100x50x3'"),
    ("random-negative", ["--random", "-2"], "--random must be 0..1000"),
    ("seed-negative", ["--seed", "-3"], "--seed must be"),
]


@pytest.mark.parametrize("args,words", [r[1:] for r in REGRESS_ROWS], ids=[r[0] for r in REGRESS_ROWS])
def test_regress_options(tmp, capsys, args, words):
    _check(capsys, ["regress", "systolic", "--config", "configs/systolic/r4c4_w1.json", *args], words, tmp)


def test_failed_run_keeps_the_previous_results(tmp, capsys):
    job = _make_job(tmp / "job")
    out = tmp / "out"
    assert main(["sim", "systolic", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 0
    before = _sha(out)
    _json(job, lambda r: r["layer"].update(batch=0))
    _check(capsys, ["sim", "systolic", "--job", str(job), "--backend", "golden", "--out", str(out)], "layer.batch",
           job)
    assert _sha(out) == before
    _check(capsys, ["sim", "systolic", "--job", str(job), "--backend", "golden", "--out", str(out),
                    "--latency", "0"], "--latency", job)
    assert _sha(out) == before


def test_row_count():
    assert len(SIM_ROWS) + 2 * len(CONFIG_ROWS) + len(VERILOG_OUT_ROWS) + len(REGRESS_ROWS) >= 25
