"""Bad input to every ``accelgen`` command of VTA: one row per failure kind.

Every row: exit status 2, stderr is one line naming the file or field, no traceback anywhere, the input files
unchanged (sha256). The runs use the golden backend or fail before any build, so the suite is fast.
"""

import hashlib
import json
import os
from pathlib import Path

import pytest

from sim.cli import main
from sw.vta.config import MemId, Opcode, VTAConfig
from sw.vta.isa import FinishInsn, MemInsn, encode_program
from tb.vta.cases import build_case

CFG = VTAConfig()


def _make_job(d: Path) -> Path:
    return build_case("gemm_1thread", CFG).program.write_job(d)


def _json(d, edit):
    raw = json.loads((d / "job.json").read_text())
    edit(raw)
    (d / "job.json").write_text(json.dumps(raw))


def _write(name, data: bytes):
    return lambda d: (d / name).write_bytes(data)


def _rm(name):
    return lambda d: (d / name).unlink()


def _truncate_dram(d):
    raw = json.loads((d / "job.json").read_text())
    cut = raw["insn"]["addr"] + 16          # keeps the first instruction only
    (d / "dram.bin").write_bytes((d / "dram.bin").read_bytes()[:cut])


def _config_file(content: bytes):
    def f(d):
        (d / "cfg.json").write_bytes(content)
        _json(d, lambda raw: (raw.pop("config"), raw.update(config_file="cfg.json")))
    return f


def _program(insns):
    """Replace the job by a raw program (instructions at address 0 of a 4 KiB image)."""
    def f(d):
        words = encode_program(CFG, insns)
        (d / "dram.bin").write_bytes(words)
        _json(d, lambda r: (r["dram"].update(size=4096), r["insn"].update(addr=0, count=len(words) // 16)))
    return f


# (id, edit of the job folder, extra arguments (JOB and TMP are substituted), words in the message)
SIM_ROWS = [
    ("job-folder-missing", None, ["--job", "TMP/nosuch"], "nosuch/job.json: job file not found"),
    ("job-json-missing", _rm("job.json"), [], "job.json: job file not found"),
    ("job-json-empty", _write("job.json", b""), [], "job.json: job file is empty"),
    ("job-json-not-utf8", _write("job.json", b'{"engine": "vta\xff\xfe"}'), [], "job.json: job file is not UTF-8"),
    ("job-json-not-json", _write("job.json", b"{engine: vta"), [], "job.json: job file is not valid JSON"),
    ("job-json-a-list", _write("job.json", b"[1, 2]"), [], "must hold a JSON object"),
    ("unknown-key", lambda d: _json(d, lambda r: r.update(colour=1)), [], "unknown key 'colour'"),
    ("missing-key", lambda d: _json(d, lambda r: r.pop("insn")), [], "missing key 'insn'"),
    ("wrong-engine", lambda d: _json(d, lambda r: r.update(engine="rbe")), [], "engine must be 'vta'"),
    ("engine-not-string", lambda d: _json(d, lambda r: r.update(engine=3)), [], "engine must be a non-empty string"),
    ("config-and-config-file", lambda d: _json(d, lambda r: r.update(config_file="c.json")), [],
     "exactly one of 'config'"),
    ("config-not-object", lambda d: _json(d, lambda r: r.update(config=[1])), [], "config must be a JSON object"),
    ("config-unknown-key", lambda d: _json(d, lambda r: r["config"].update(LOG_PE=4)), [],
     "unknown VTA config key 'LOG_PE'"),
    ("config-out-of-range", lambda d: _json(d, lambda r: r["config"].update(LOG_BATCH=7)), [],
     "LOG_BATCH must be one of 0..3, not 7"),
    ("config-bus-96", lambda d: _json(d, lambda r: r["config"].update(BUS_WIDTH=96)), [], "BUS_WIDTH"),
    ("config-file-missing", lambda d: _json(d, lambda r: (r.pop("config"), r.update(config_file="cfg.json"))), [],
     "config_file 'cfg.json' not found"),
    ("config-file-empty", _config_file(b""), [], "cfg.json: config file is empty"),
    ("config-file-not-utf8", _config_file(b"\xff\xfe{}"), [], "cfg.json: config file is not UTF-8"),
    ("config-file-not-json", _config_file(b"LOG_BATCH = 1"), [], "cfg.json: config file is not valid JSON"),
    ("config-file-bad-value", _config_file(b'{"LOG_ACC_BUFF_SIZE": 19}'), [], "cfg.json: LOG_ACC_BUFF_SIZE"),
    ("dram-file-missing", _rm("dram.bin"), [], "file 'dram.bin' not found"),
    ("dram-file-empty", _write("dram.bin", b""), [], "dram.bin: DRAM image has 0 bytes but the instructions end"),
    ("dram-file-truncated", _truncate_dram, [], "(truncated file?)"),
    ("dram-file-a-folder", lambda d: ((d / "dram.bin").unlink(), (d / "dram.bin").mkdir()), [],
     "DRAM image is not a regular file"),
    ("dram-longer-than-size", lambda d: _json(d, lambda r: r["dram"].update(size=64)), [], "more than size=64"),
    ("dram-size-zero", lambda d: _json(d, lambda r: r["dram"].update(size=0)), [], "size must be >= 1"),
    ("dram-size-1TiB", lambda d: _json(d, lambda r: r["dram"].update(size=1 << 40)), [],
     "dram: size must be <= 67,108,864"),
    ("dram-size-not-int", lambda d: _json(d, lambda r: r["dram"].update(size="4096")), [], "size must be an integer"),
    ("dram-file-not-string", lambda d: _json(d, lambda r: r["dram"].update(file=7)), [], "file must be a path"),
    ("insn-count-zero", lambda d: _json(d, lambda r: r["insn"].update(count=0)), [], "count must be >= 1"),
    ("insn-count-negative", lambda d: _json(d, lambda r: r["insn"].update(count=-3)), [], "count must be >= 1"),
    ("insn-addr-unaligned", lambda d: _json(d, lambda r: r["insn"].update(addr=r["insn"]["addr"] + 8)), [],
     "addr must be a multiple of 16"),
    ("insn-outside-image", lambda d: _json(d, lambda r: r["insn"].update(count=1 << 20)), [], "lie outside"),
    ("insn-addr-float", lambda d: _json(d, lambda r: r["insn"].update(addr=1.5)), [], "addr must be an integer"),
    ("load-outside-dram", _program([MemInsn(opcode=Opcode.LOAD, memory_type=MemId.INP, dram_base=10_000, y_size=1,
                                            x_size=4, x_stride=4), FinishInsn()]), [],
     "instruction 0 (LOAD INP): dram_base=10000"),
    ("load-beyond-scratchpad", _program([MemInsn(opcode=Opcode.LOAD, memory_type=MemId.ACC,
                                                 sram_base=CFG.acc_depth - 1, y_size=1, x_size=2, x_stride=2),
                                         FinishInsn()]), [], "exceeds the ACC scratchpad depth"),
    ("cycle-limit-zero", lambda d: _json(d, lambda r: r.update(cycle_limit=0)), [], "cycle_limit must be >= 1"),
    ("cycle-limit-huge", lambda d: _json(d, lambda r: r.update(cycle_limit=1 << 50)), [], "cycle_limit must be <="),
    ("cycle-limit-not-int", lambda d: _json(d, lambda r: r.update(cycle_limit="lots")), [], "cycle_limit must be"),
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
    ("out-is-the-job-rtl", None, ["--out", "JOB", "--backend", "rtl"], "--out is (inside) the input"),
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


def _skip_read_only(args):
    if "TMP/ro/out" in args and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders (the /proc row covers an unwritable path)")


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
    _skip_read_only(args)
    job = _make_job(tmp / "job")
    if edit is not None:
        edit(job)
    argv = ["sim", "vta", "--job", str(job), "--backend", "golden"] + _argv(args, job, tmp)
    _check(capsys, argv, words, job)


CONFIG_ROWS = [
    ("config-missing", None, "TMP/nosuch.json", "nosuch.json: VTA config not found"),
    ("config-empty", b"", "TMP/c.json", "c.json: VTA config is empty"),
    ("config-not-utf8", b"\xff\xfe{}", "TMP/c.json", "c.json: VTA config is not UTF-8"),
    ("config-not-json", b"{LOG_BATCH: 9", "TMP/c.json", "c.json: VTA config is not valid JSON"),
    ("config-unknown-key", b'{"LOG_PE": 4}', "TMP/c.json", "unknown VTA config key 'LOG_PE'"),
    ("config-out-of-range", b'{"LOG_UOP_BUFF_SIZE": 18}', "TMP/c.json", "LOG_UOP_BUFF_SIZE"),
]


@pytest.mark.parametrize("command", ["regress", "verilog", "compile"])
@pytest.mark.parametrize("content,path,words", [r[1:] for r in CONFIG_ROWS], ids=[r[0] for r in CONFIG_ROWS])
def test_bad_config(tmp, capsys, command, content, path, words):
    path = path.replace("TMP", str(tmp))
    if content is not None:
        Path(path).write_bytes(content)
    argv = {"regress": ["regress", "vta", "--config", path],
            "verilog": ["verilog", "vta", "--config", path, "--out", str(tmp / "v")],
            "compile": ["compile", "resnet18", "--config", path, "--out", str(tmp / "net")]}[command]
    _check(capsys, argv, words, tmp / "ro")
    assert not (tmp / "v").exists() and not (tmp / "net").exists()


REGRESS_ROWS = [
    ("latency-0", ["--latency", "0"], "--latency must be 1..65535, not 0"),
    ("latency-70000", ["--latency", "70000"], "--latency must be 1..65535"),
    ("seed-negative", ["--seed", "-5"], "--seed must be"),
    ("random-negative", ["--random", "-1"], "--random must be 0..100,000, not -1"),
    ("testcase-mistyped", ["--testcase", "gemm_2thread"], "--testcase: no test 'gemm_2thread'"),
]


@pytest.mark.parametrize("args,words", [r[1:] for r in REGRESS_ROWS], ids=[r[0] for r in REGRESS_ROWS])
def test_regress_options(tmp, capsys, args, words):
    summary = Path("build/tests") / f"vta-{CFG.name}" / "summary.json"
    before = summary.read_bytes() if summary.exists() else None
    _check(capsys, ["regress", "vta"] + args, words, tmp / "ro")
    assert (summary.read_bytes() if summary.exists() else None) == before, "the last summary was touched"


TRACE_ROWS = [
    ("job-json-missing", _rm("job.json"), [], "job.json: job file not found"),
    ("config-out-of-range", lambda d: _json(d, lambda r: r["config"].update(LOG_BATCH=7)), [], "LOG_BATCH"),
    ("dram-file-truncated", _truncate_dram, [], "(truncated file?)"),
    ("latency-0", None, ["--latency", "0"], "--latency must be 1..65535"),
    ("cycle-limit-negative", None, ["--cycle-limit", "-2"], "--cycle-limit must be"),
    ("out-is-the-job", None, ["--out", "JOB"], "--out is (inside) the input"),
    ("out-under-a-file", None, ["--out", "TMP/afile/t"], "is not a folder"),
]


@pytest.mark.parametrize("edit,args,words", [r[1:] for r in TRACE_ROWS], ids=[r[0] for r in TRACE_ROWS])
def test_trace_diff(tmp, capsys, edit, args, words):
    job = _make_job(tmp / "job")
    if edit is not None:
        edit(job)
    _check(capsys, ["trace", "diff", "vta", "--job", str(job)] + _argv(args, job, tmp), words, job)


TINY_NET = {"name": "tiny", "seed": 3, "input": {"channels": 16, "height": 4, "width": 4},
            "layers": [{"name": "c1", "type": "conv2d", "out_channels": 16, "kernel": 3, "pad": 1, "shift": 8,
                        "relu": True, "wmax": 15}]}

COMPILE_ROWS = [
    ("network-missing", None, [], "nosuch.json"),
    ("network-empty", b"", [], "net.json"),
    ("network-not-json", b"{layers: 1", [], "net.json"),
    ("network-not-utf8", b'{"name": "\xff"}', [], "net.json"),
    ("unknown-layer-type", json.dumps(dict(TINY_NET, layers=[dict(TINY_NET["layers"][0], type="conv5d")])).encode(),
     [], "conv5d"),
    ("unknown-only-layer", json.dumps(TINY_NET).encode(), ["--layers", "nosuch"], "nosuch"),
    ("seed-negative", json.dumps(TINY_NET).encode(), ["--seed", "-1"], "--seed must be"),
    ("out-is-the-network-file", json.dumps(TINY_NET).encode(), ["--out", "NET"], "--out"),
    ("out-under-a-file", json.dumps(TINY_NET).encode(), ["--out", "TMP/afile/n"], "is not a folder"),
]


@pytest.mark.parametrize("content,args,words", [r[1:] for r in COMPILE_ROWS], ids=[r[0] for r in COMPILE_ROWS])
def test_compile(tmp, capsys, content, args, words):
    net = tmp / "nets" / ("nosuch.json" if content is None else "net.json")
    net.parent.mkdir()
    if content is not None:
        net.write_bytes(content)
    out = tmp / "out"
    argv = ["compile", str(net)] + [a.replace("NET", str(net)).replace("TMP", str(tmp)) for a in args]
    if "--out" not in args:
        argv += ["--out", str(out)]
    _check(capsys, argv, words, net.parent)
    assert not out.exists(), "a failed compile left a folder behind"
    assert not [p for p in tmp.iterdir() if p.name.startswith(".out")], "a failed compile left a temporary folder"


def test_failed_compile_keeps_previous_network(tmp, capsys):
    net = tmp / "net.json"
    net.write_text(json.dumps(TINY_NET))
    out = tmp / "out"
    assert main(["compile", str(net), "--out", str(out)]) == 0
    before = _sha(out)
    _check(capsys, ["compile", str(net), "--out", str(out), "--layers", "nosuch"], "nosuch", tmp / "ro")
    assert _sha(out) == before
    bad = tmp / "bad.json"
    bad.write_text(json.dumps(dict(TINY_NET, layers=[dict(TINY_NET["layers"][0], out_channels=-16)])))
    rc = main(["compile", str(bad), "--out", str(out)])
    assert rc == 2 and "Traceback" not in capsys.readouterr().err
    assert _sha(out) == before


RUN_PLOT_ROWS = [
    ("run-timeline-negative", ["run", "TMP/net", "--timeline", "-5"], "--timeline must be >= 0"),
    ("plot-missing-folder", ["plot", "TMP/nosuch"], "no such folder"),
    ("plot-sample-negative", ["plot", "TMP/job", "--sample", "-1"], "--sample must be >= 0"),
    ("plot-neither", ["plot", "TMP/ro"], "neither a compiled network folder nor a job folder"),
]


@pytest.mark.parametrize("args,words", [r[1:] for r in RUN_PLOT_ROWS], ids=[r[0] for r in RUN_PLOT_ROWS])
def test_run_and_plot(tmp, capsys, args, words):
    _make_job(tmp / "job")
    (tmp / "net").mkdir()
    (tmp / "net" / "network.json").write_text("{}")
    _check(capsys, [a.replace("TMP", str(tmp)) for a in args], words, tmp / "job")
    assert not (tmp / "nosuch").exists()


def test_failed_run_keeps_previous_results(tmp, capsys):
    job = _make_job(tmp / "job")
    out = tmp / "out"
    assert main(["sim", "vta", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 0
    before = _sha(out)
    _json(job, lambda r: r["config"].update(LOG_BATCH=7))
    _check(capsys, ["sim", "vta", "--job", str(job), "--backend", "golden", "--out", str(out)], "LOG_BATCH", job)
    assert _sha(out) == before
    _check(capsys, ["sim", "vta", "--job", str(job), "--backend", "golden", "--out", str(out), "--latency", "0"],
           "--latency", job)
    assert _sha(out) == before
