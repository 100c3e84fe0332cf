"""Bad input to every CAP command (sim, regress, verilog, estimate): exit status 2, one stderr line naming the
file or field, no traceback, and the input files unchanged. Fast: golden backend, no RTL build."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.cap.config import CAPConfig
from sw.cap.job import MAX_ELEMENTS, write_cap_job
from sw.data import HAWQ_V3_RESNET18

ROOT = Path(__file__).resolve().parent.parent


def _job(tmp):
    rng = np.random.default_rng(3)
    return write_cap_job(tmp / "job", CAPConfig(), [
        {"op": "add", "bits": 4, "signed": True, "inputs": {"a": rng.integers(-8, 8, 10), "b": rng.integers(-8, 8, 10)}},
        {"op": "matmul", "bits": 3, "signed": False, "inputs": {"a": rng.integers(0, 8, (2, 3)),
                                                               "b": rng.integers(0, 8, (3, 2))}}])


def _edit(key_path, value):
    """Set job.json[key_path...] = value."""
    def f(job, tmp):
        raw = json.loads((job / "job.json").read_text())
        d = raw
        for k in key_path[:-1]:
            d = d[k]
        d[key_path[-1]] = value
        (job / "job.json").write_text(json.dumps(raw))
        return ["sim", "cap", "--job", str(job), "--backend", "golden"]
    return f


def _write(name, data):
    def f(job, tmp):
        p = job / name
        p.write_bytes(data) if isinstance(data, bytes) else np.save(p, data, allow_pickle=True)
        return ["sim", "cap", "--job", str(job), "--backend", "golden"]
    return f


def _sim(*extra, job_arg=None):
    def f(job, tmp):
        return ["sim", "cap", "--job", str(job_arg(job, tmp) if job_arg else job), "--backend", "golden", *extra]
    return f


def _out(make):
    def f(job, tmp):
        return ["sim", "cap", "--job", str(job), "--backend", "golden", "--out", str(make(job, tmp))]
    return f


def _file_under(job, tmp):
    (tmp / "plain").write_text("x")
    return tmp / "plain" / "out"


def _cfg_file(data):
    def f(job, tmp):
        p = tmp / "cfg.json"
        p.write_bytes(data)
        return p
    return f


def _regress(*extra, cfg=None):
    def f(job, tmp):
        return ["regress", "cap", *(["--config", str(cfg(job, tmp))] if cfg else []), *extra]
    return f


def _verilog(cfg):
    def f(job, tmp):
        return ["verilog", "cap", "--config", str(cfg(job, tmp)), "--out", str(tmp / "v")]
    return f


def _hawq(edit=None, raw=None, network="resnet18"):
    def f(job, tmp):
        p = tmp / "hawq.json"
        if raw is not None:
            p.write_bytes(raw)
        else:
            d = json.loads(Path(HAWQ_V3_RESNET18).read_text())
            edit(d)
            p.write_text(json.dumps(d))
        return ["estimate", "cap", "--network", network, "--costs", "formula", "--bits", "8", "--hawq", str(p)]
    return f


def _bench(raw):
    def f(job, tmp):
        p = tmp / "bench.json"
        p.write_bytes(raw)
        return ["estimate", "cap", "--network", "alexnet", "--costs", "rtl", "--bench", str(p)]
    return f


def _set_cfg(**kw):
    def f(d):
        d["configs"][0].update(kw)
    return f


GOOD_CFG = json.dumps(CAPConfig().to_dict()).encode()
BAD_BENCH = json.dumps({"records": [{"name": "f_add", "op": "add", "bits": 4, "signed": False, "ok": True,
                                     "cycles": -5, "compares": 1, "writes": 1}]}).encode()

CASES = {
    # --- sim: the job folder and job.json
    "job-folder-missing": (_sim(job_arg=lambda j, t: t / "nosuch"), "nosuch"),
    "job-json-missing": (_sim(job_arg=lambda j, t: (t / "empty").mkdir() or t / "empty"), "job.json"),
    "job-is-a-file": (_sim(job_arg=lambda j, t: j / "op0_a.npy"), "op0_a.npy"),
    "job-json-empty": (_write("job.json", b""), "job.json"),
    "job-json-non-utf8": (_write("job.json", b'{"engine": "\xff\xfe"}'), "UTF-8"),
    "job-json-not-json": (_write("job.json", b"{engine: cap"), "not valid JSON"),
    "job-json-a-list": (_write("job.json", b"[1, 2]"), "JSON object"),
    "unknown-key": (_edit(["colour"], 1), "unknown key 'colour'"),
    "wrong-engine": (_edit(["engine"], "vta"), "engine must be 'cap'"),
    "config-unknown-key": (_edit(["config", "depth"], 3), "depth"),
    "config-out-of-range": (_edit(["config", "rows"], 96), "rows"),
    "config-file-missing": (lambda j, t: _edit(["config_file"], "nosuch.json")(j, t) if _drop(j, "config") else None,
                            "nosuch.json"),
    "ops-empty": (_edit(["ops"], []), "non-empty list"),
    "op-unknown": (_edit(["ops", 0, "op"], "conv"), "op must be one of"),
    "bits-40": (_edit(["ops", 0, "bits"], 40), r"ops[0]: bits must be an integer 1..16"),
    "bits-0": (_edit(["ops", 0, "bits"], 0), "bits must be an integer 1..16"),
    "signed-bad": (_edit(["ops", 0, "signed"], "maybe"), "signed must be"),
    "window-bad": (_edit(["ops", 0, "window"], 3), "window"),
    "input-name-not-a-string": (_edit(["ops", 0, "inputs", "a"], 5), "input a"),
    "cycle-limit-0": (_edit(["cycle_limit"], 0), "cycle_limit"),
    "cycle-limit-negative": (_edit(["cycle_limit"], -5), "cycle_limit"),
    "cycle-limit-text": (_edit(["cycle_limit"], "many"), "cycle_limit"),
    # --- sim: the .npy inputs
    "npy-missing": (lambda j, t: (j / "op0_a.npy").unlink() or _sim()(j, t), "op0_a.npy"),
    "npy-empty": (_write("op0_a.npy", b""), "op0_a.npy"),
    "npy-truncated": (lambda j, t: _write("op0_a.npy", (j / "op0_a.npy").read_bytes()[:90])(j, t), "op0_a.npy"),
    "npy-not-npy": (_write("op0_a.npy", b"hello, world\n"), "op0_a.npy"),
    "npy-float": (_write("op0_a.npy", np.ones(10) * 0.5), "dtype float64"),
    "npy-object": (_write("op0_a.npy", np.array([1, "x"], dtype=object)), "object arrays"),
    "npy-out-of-range": (_write("op0_a.npy", np.full(10, 9)), "outside the 4-bit signed range"),
    "npy-wrong-shape": (_write("op0_a.npy", np.zeros(7, np.int8)), "same shape"),
    "matmul-inner-mismatch": (_write("op1_b.npy", np.zeros((4, 2), np.int8)), r"(j, u)"),
    "npy-too-large": (_write("op0_a.npy", np.zeros(MAX_ELEMENTS + 1, np.int8)), "at most"),
    "matmul-too-large": (lambda j, t: _write("op1_a.npy", np.zeros((1 << 14, 64), np.int8))(j, t)
                         if _write("op1_b.npy", np.zeros((64, 64), np.int8))(j, t) else None, "multiply-accumulates"),
    # --- sim: options
    "latency-0": (_sim("--latency", "0"), "--latency"),
    "latency-70000": (_sim("--latency", "70000"), "--latency"),
    "cycle-limit-option-negative": (_sim("--cycle-limit", "-1"), "--cycle-limit"),
    "seed-negative": (_sim("--seed", "-1"), "--seed"),
    # --- sim: the output folder
    "out-under-a-file": (_out(_file_under), "plain"),
    "out-unwritable-fs": (_out(lambda j, t: Path("/proc/accelgen-cap-out")), "accelgen-cap-out"),
    "out-equal-to-job": (_out(lambda j, t: j), "input"),
    "out-inside-job": (_out(lambda j, t: j / "results"), "input"),
    "out-is-an-input-file": (_out(lambda j, t: j / "op0_a.npy"), "op0_a.npy"),
    # --- regress and verilog: the config
    "regress-config-missing": (_regress(cfg=lambda j, t: t / "nosuch.json"), "nosuch.json"),
    "regress-config-empty": (_regress(cfg=_cfg_file(b"")), "cfg.json"),
    "regress-config-non-utf8": (_regress(cfg=_cfg_file(b'{"rows": "\xff"}')), "UTF-8"),
    "regress-config-not-json": (_regress(cfg=_cfg_file(b"rows = 64")), "JSON"),
    "regress-config-unknown-key": (_regress(cfg=_cfg_file(b'{"depth": 3}')), "depth"),
    "regress-config-out-of-range": (_regress(cfg=_cfg_file(b'{"rows": 96}')), "rows"),
    "regress-testcase-unknown": (_regress("--testcase", "nosuch"), "nosuch"),
    "regress-seed-negative": (_regress("--seed", "-1"), "--seed"),
    "regress-random-negative": (_regress("--random", "-5"), "--random"),
    "verilog-config-missing": (_verilog(lambda j, t: t / "nosuch.json"), "nosuch.json"),
    "verilog-config-out-of-range": (_verilog(_cfg_file(b'{"cols": 100}')), "cols"),
    "verilog-config-non-utf8": (_verilog(_cfg_file(b"\xff\xfe")), "UTF-8"),
    # --- estimate
    "estimate-bits-40": (lambda j, t: ["estimate", "cap", "--bits", "40"], "--bits"),
    "estimate-bits-text": (lambda j, t: ["estimate", "cap", "--bits", "4,eight"], "--bits"),
    "estimate-network-unknown": (lambda j, t: ["estimate", "cap", "--network", "lenet"], "--network"),
    "hawq-missing": (lambda j, t: ["estimate", "cap", "--hawq", str(t / "nosuch.json")], "nosuch.json"),
    "hawq-empty": (_hawq(raw=b""), "hawq.json"),
    "hawq-not-json": (_hawq(raw=b"{configs"), "hawq.json"),
    "hawq-40-bits": (_hawq(lambda d: d["configs"][0]["bits"].__setitem__(3, 40)), "bits[3] must be an integer 1..16"),
    "hawq-0-bits": (_hawq(lambda d: d["configs"][0]["bits"].__setitem__(0, 0)), "bits[0]"),
    "hawq-negative-energy": (_hawq(_set_cfg(energy_vs_int8=-1.0)), "energy_vs_int8 must be > 0"),
    "hawq-text-energy": (_hawq(_set_cfg(energy_vs_int8="high")), "energy_vs_int8 must be a finite number"),
    "hawq-negative-edp": (_hawq(_set_cfg(edp_js=-0.5)), "edp_js"),
    "hawq-top1-over-100": (_hawq(_set_cfg(top1=170)), "top1"),
    "hawq-wrong-network-key": (_hawq(lambda d: d.update(network="resnet50")), "resnet50"),
    "hawq-wrong-network-widths": (_hawq(lambda d: d["configs"][0].update(bits=[8] * 52)), "52 bit widths"),
    "hawq-for-another-network-option": (_hawq(lambda d: None, network="alexnet"), "alexnet"),
    "hawq-no-configs": (_hawq(lambda d: d.update(configs=[])), "configs"),
    "bench-missing": (lambda j, t: ["estimate", "cap", "--costs", "rtl", "--bench", str(t / "none.json")], "none.json"),
    "bench-negative-cycles": (_bench(BAD_BENCH), "cycles must be a non-negative number"),
    "bench-not-json": (_bench(b"\x00\x01"), "bench.json"),
    "estimate-json-under-a-file": (lambda j, t: ["estimate", "cap", "--network", "alexnet", "--bits", "8",
                                                 "--json", str(_file_under(j, t) / "e.json")], "plain"),
}


def _drop(job, key):
    raw = json.loads((job / "job.json").read_text())
    cfg = raw.pop(key)
    (job / "cfg-orig.json").write_text(json.dumps(cfg))
    (job / "job.json").write_text(json.dumps(raw))
    return True


def _digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not any(
                part.startswith(("out-", ".out-")) for part in p.relative_to(folder).parts)}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path, capsys):
    make, expect = CASES[name]
    if name == "out-unwritable-fs" and not Path("/proc/self").is_dir():
        pytest.skip("needs a read-only /proc")
    job = _job(tmp_path)
    argv = make(job, tmp_path)
    before = _digests(tmp_path)
    rc = main(argv)
    cap = capsys.readouterr()
    assert "Traceback" not in cap.out + cap.err
    assert rc == 2, (argv, cap.out, cap.err)
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    assert expect in lines[0], (expect, lines[0])
    after = _digests(tmp_path)
    assert {k: v for k, v in after.items() if k in before} == before


def test_read_only_output_folder(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    job = _job(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["sim", "cap", "--job", str(job), "--backend", "golden", "--out", str(ro / "out")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_a_failed_run_keeps_the_previous_results(tmp_path, capsys):
    job = _job(tmp_path)
    out = tmp_path / "out"
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 0
    before = _digests(out)
    np.save(job / "op0_a.npy", np.full(10, 100))
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 2
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden", "--out", str(out), "--latency", "0"]) == 2
    assert _digests(out) == before
    assert json.loads((out / "result.json").read_text())["status"] == "ok"
    assert len(CASES) >= 25
