"""Bad input to every xpulpnn command (sim, regress, verilog, trace diff): exit status 2, one stderr line naming
the file or field, no traceback, and the input files unchanged. Fast: no RTL build (every case is refused first)."""

import hashlib
import json
import os
import shutil
import struct
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
ELF = ROOT / "examples" / "xpulpnn" / "dot.elf"


def _job(tmp):
    job = tmp / "job"
    job.mkdir()
    shutil.copy(ELF, job / "dot.elf")
    (job / "job.json").write_text(json.dumps({"engine": "xpulpnn", "elf": "dot.elf", "cycle_limit": 10000}))
    return job


def _sim(*extra, job=None):
    def f(j, t):
        return ["sim", "xpulpnn", "--job", str(job(j, t) if job else j), "--backend", "golden", *extra]
    return f


def _edit(key, value):
    def f(j, t):
        raw = json.loads((j / "job.json").read_text())
        if value is _DROP:
            raw.pop(key)
        else:
            raw[key] = value
        (j / "job.json").write_text(json.dumps(raw))
        return _sim()(j, t)
    return f


_DROP = object()


def _write(name, data, *, as_elf=False):
    def f(j, t):
        (j / name).write_bytes(data(j) if callable(data) else data)
        return _sim(job=(lambda j, t: j / name) if as_elf else None)(j, t)
    return f


def _patch(offset, fmt, value):
    """The example ELF with ``struct.pack(fmt, value)`` at ``offset`` (an int or ``f(raw) -> int``)."""
    def data(j):
        raw = bytearray(ELF.read_bytes())
        off = offset(raw) if callable(offset) else offset
        raw[off:off + struct.calcsize(fmt)] = struct.pack(fmt, value)
        return bytes(raw)
    return data


def _phdr(field):
    """Offset of ``field`` (0 type, 1 offset, 4 filesz, 5 memsz) of the first PT_LOAD program header."""
    def off(raw):
        phoff, = struct.unpack_from("<I", raw, 28)
        phentsize, phnum = struct.unpack_from("<HH", raw, 42)
        for i in range(phnum):
            if struct.unpack_from("<I", raw, phoff + i * phentsize)[0] == 1:
                return phoff + i * phentsize + 4 * field
        raise AssertionError("no PT_LOAD")
    return off


def _out(make):
    def f(j, t):
        return ["sim", "xpulpnn", "--job", str(j), "--backend", "golden", "--out", str(make(j, t))]
    return f


def _file_under(j, t):
    (t / "plain").write_text("x")
    return t / "plain" / "out"


def _cfg_file(data):
    def f(j, t):
        p = t / "cfg.json"
        p.write_bytes(data)
        return p
    return f


def _regress(*extra, cfg=None):
    def f(j, t):
        return ["regress", "xpulpnn", *(["--config", str(cfg(j, t))] if cfg else []), *extra]
    return f


def _verilog(cfg):
    def f(j, t):
        return ["verilog", "xpulpnn", "--config", str(cfg(j, t)), "--out", str(t / "v")]
    return f


def _trace(*extra, job=None):
    def f(j, t):
        return ["trace", "diff", "xpulpnn", "--job", str(job(j, t) if job else j), *extra]
    return f


TRUNCATED = lambda j: ELF.read_bytes()[:200]  # noqa: E731

CASES = {
    # --- sim: the job folder and job.json
    "job-missing": (_sim(job=lambda j, t: t / "nosuch"), "nosuch"),
    "job-json-missing": (_sim(job=lambda j, t: (t / "empty").mkdir() or t / "empty"), "job.json"),
    "job-json-empty": (_write("job.json", b""), "job.json"),
    "job-json-non-utf8": (_write("job.json", b'{"elf": "\xff"}'), "UTF-8"),
    "job-json-not-json": (_write("job.json", b"elf = dot.elf"), "not valid JSON"),
    "job-json-a-list": (_write("job.json", b"[]"), "JSON object"),
    "unknown-key": (_edit("colour", 1), "unknown key 'colour'"),
    "wrong-engine": (_edit("engine", "cap"), "engine must be 'xpulpnn'"),
    "elf-key-missing": (_edit("elf", _DROP), "'elf'"),
    "elf-key-not-a-string": (_edit("elf", 5), "'elf'"),
    "elf-file-missing": (_edit("elf", "nosuch.elf"), "nosuch.elf"),
    "config-unknown-key": (_edit("config", {"ram": 4}), "ram"),
    "config-out-of-range": (_edit("config", {"ram_kib": 3}), "ram_kib"),
    "config-xpulpnn-without-xpulpv2": (_edit("config", {"xpulpv2": False, "xpulpnn": True}), "xpulpv2"),
    "config-file-missing": (_edit("config_file", "nosuch.json"), "nosuch.json"),
    "config-and-config-file": (lambda j, t: _edit("config", {})(j, t) and _edit("config_file", "c.json")(j, t),
                               "not both"),
    "cycle-limit-0": (_edit("cycle_limit", 0), "cycle_limit"),
    "cycle-limit-negative": (_edit("cycle_limit", -5), "cycle_limit"),
    "cycle-limit-text": (_edit("cycle_limit", "lots"), "cycle_limit"),
    "cycle-limit-huge": (_edit("cycle_limit", 1 << 50), "cycle_limit"),
    "max-cycles-and-cycle-limit": (_edit("max_cycles", 5), "not both"),
    "trace-not-a-bool": (_edit("trace", "yes"), "trace"),
    # --- sim: the ELF (in the folder, and given directly)
    "elf-empty": (_write("dot.elf", b""), "dot.elf"),
    "elf-empty-direct": (_write("dot.elf", b"", as_elf=True), "dot.elf"),
    "elf-truncated-header": (_write("dot.elf", lambda j: ELF.read_bytes()[:30], as_elf=True), "truncated"),
    "elf-truncated": (_write("dot.elf", TRUNCATED, as_elf=True), "truncated"),
    "elf-truncated-in-folder": (_write("dot.elf", TRUNCATED), "truncated"),
    "elf-not-an-elf": (_write("dot.elf", b"#!/bin/sh\necho hi\n", as_elf=True), "not an ELF"),
    "elf-64-bit": (_write("dot.elf", _patch(4, "<B", 2), as_elf=True), "ELF32"),
    "elf-big-endian": (_write("dot.elf", _patch(5, "<B", 2), as_elf=True), "little-endian"),
    "elf-wrong-architecture": (_write("dot.elf", _patch(18, "<H", 62), as_elf=True), "not RISC-V"),
    "elf-not-executable": (_write("dot.elf", _patch(16, "<H", 1), as_elf=True), "not an executable"),
    "elf-segment-past-the-file": (_write("dot.elf", _patch(_phdr(1), "<I", 1 << 24), as_elf=True), "truncated"),
    "elf-segment-4-gib": (_write("dot.elf", _patch(_phdr(5), "<I", 0xFFFFFFFF), as_elf=True), "4,294,967,295 bytes"),
    "elf-larger-than-the-ram": (_write("dot.elf", _patch(_phdr(5), "<I", 600 << 10)), "outside the RAM"),
    "elf-is-a-folder": (_sim(job=lambda j, t: (t / "x.elf").mkdir() or t / "x.elf"), "x.elf"),
    # --- sim: options
    "cycle-limit-option-negative": (_sim("--cycle-limit", "-1"), "--cycle-limit"),
    "cycle-limit-option-0": (_sim("--cycle-limit", "0"), "--cycle-limit"),
    "seed-negative": (_sim("--seed", "-1"), "--seed"),
    # --- sim: the output folder
    "out-under-a-file": (_out(_file_under), "plain"),
    "out-unwritable-fs": (_out(lambda j, t: Path("/proc/accelgen-xpulpnn-out")), "accelgen-xpulpnn-out"),
    "out-equal-to-job": (_out(lambda j, t: j), "input"),
    "out-inside-job": (_out(lambda j, t: j / "res"), "input"),
    "out-is-the-elf": (lambda j, t: ["sim", "xpulpnn", "--job", str(j / "dot.elf"), "--backend", "golden",
                                     "--out", str(j / "dot.elf")], "dot.elf"),
    "out-holds-the-elf": (lambda j, t: ["sim", "xpulpnn", "--job", str(j / "dot.elf"), "--backend", "iss",
                                        "--out", str(j)], "dot.elf"),
    # --- regress, verilog: the config and options
    "regress-config-missing": (_regress(cfg=lambda j, t: t / "nosuch.json"), "nosuch.json"),
    "regress-config-empty": (_regress(cfg=_cfg_file(b"")), "cfg.json"),
    "regress-config-non-utf8": (_regress(cfg=_cfg_file(b'{"ram_kib": "\xff"}')), "UTF-8"),
    "regress-config-not-json": (_regress(cfg=_cfg_file(b"ram_kib: 4")), "JSON"),
    "regress-config-unknown-key": (_regress(cfg=_cfg_file(b'{"cache": 1}')), "cache"),
    "regress-config-out-of-range": (_regress(cfg=_cfg_file(b'{"div_cycles": 3}')), "div_cycles"),
    "regress-seed-negative": (_regress("--seed", "-1"), "--seed"),
    "regress-random-negative": (_regress("--random", "-1"), "--random"),
    "verilog-config-missing": (_verilog(lambda j, t: t / "nosuch.json"), "nosuch.json"),
    "verilog-config-out-of-range": (_verilog(_cfg_file(b'{"ram_kib": 2048}')), "ram_kib"),
    # --- trace diff
    "trace-job-missing": (_trace(job=lambda j, t: t / "nosuch.elf"), "nosuch.elf"),
    "trace-elf-truncated": (lambda j, t: _write("dot.elf", TRUNCATED)(j, t) and _trace()(j, t), "truncated"),
    "trace-elf-wrong-architecture": (lambda j, t: _write("dot.elf", _patch(18, "<H", 243 + 1))(j, t)
                                     and _trace()(j, t), "not RISC-V"),
    "trace-cycle-limit-0": (_trace("--cycle-limit", "0"), "--cycle-limit"),
    "trace-config-bad": (lambda j, t: _trace("--config", str(_cfg_file(b'{"ram_kib": 3}')(j, t)))(j, t), "ram_kib"),
    "trace-out-inside-job": (_trace("--out", "PLACEHOLDER"), "input"),
    "trace-out-under-a-file": (lambda j, t: _trace("--out", str(_file_under(j, t)))(j, t), "plain"),
}


def _digests(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not any(
                part.startswith(("out-", ".out-")) or part.endswith("-out-golden") for part in
                p.relative_to(folder).parts)}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path, capsys):
    make, expect = CASES[name]
    if name == "out-unwritable-fs" and not Path("/proc/self").is_dir():
        pytest.skip("needs a read-only /proc")
    job = _job(tmp_path)
    argv = make(job, tmp_path)
    argv = [str(job / "res") if a == "PLACEHOLDER" else a for a in argv]
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


def test_regress_unknown_testcase_keeps_the_summary(tmp_path, capsys, monkeypatch):
    """A mistyped --testcase is refused before anything runs (the ISA tests are built, nothing simulated)."""
    monkeypatch.chdir(ROOT)
    summary = ROOT / "build" / "tests" / "xpulpnn-xpulpnn_ram256k_div32" / "summary.json"
    before = summary.read_bytes() if summary.exists() else None
    assert main(["regress", "xpulpnn", "--random", "0", "--testcase", "rv32ui-nosuch"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rv32ui-nosuch" in err[0] and "rv32ui-add" in err[0]
    assert (summary.read_bytes() if summary.exists() else None) == before


def test_read_only_output_folder(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    job = _job(tmp_path)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["sim", "xpulpnn", "--job", str(job), "--backend", "golden", "--out", str(ro / "o")]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_a_failed_run_keeps_the_previous_results(tmp_path, capsys):
    job = _job(tmp_path)
    out = tmp_path / "out"
    assert main(["sim", "xpulpnn", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 0
    before = _digests(out)
    (job / "dot.elf").write_bytes(ELF.read_bytes()[:100])
    assert main(["sim", "xpulpnn", "--job", str(job), "--backend", "golden", "--out", str(out)]) == 2
    assert main(["sim", "xpulpnn", "--job", str(job), "--backend", "iss", "--out", str(out), "--cycle-limit", "0"]) == 2
    assert _digests(out) == before
    assert json.loads((out / "result.json").read_text())["status"] == "ok"
    assert len(CASES) >= 25
