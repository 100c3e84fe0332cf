"""The engine contract (sw/common/contract.py, sw/common/regs.py, hw/common/regfile.py, sim/engines, the driver)."""

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.common.regfile import RegisterFile
from sim import engines
from sw.common.contract import (BadInput, Result, RunOptions, check_output_path, read_json, read_npy,
                                staged_output)
from sw.common.regs import Reg, RegisterMap

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------------------------- readers
def test_read_npy_refuses_each_kind_of_bad_file(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.arange(6, dtype=np.int8).reshape(2, 3))
    raw = good.read_bytes()
    cases = {"empty": (b"", "is empty"), "truncated": (raw[:-2], "not a valid .npy"),
             "text": (b"hello world, not numpy", "not a valid .npy")}
    for name, (data, msg) in cases.items():
        p = tmp_path / f"{name}.npy"
        p.write_bytes(data)
        with pytest.raises(BadInput, match=msg) as e:
            read_npy(p, "x")
        assert str(p) in str(e.value)
    np.save(tmp_path / "f.npy", np.zeros(3, np.float32))
    with pytest.raises(BadInput, match="dtype float32"):
        read_npy(tmp_path / "f.npy", "x")
    np.save(tmp_path / "o.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(BadInput, match="object arrays"):
        read_npy(tmp_path / "o.npy", "x")
    with pytest.raises(BadInput, match=r"shape must be \(3, \*\)"):
        read_npy(good, "x", shape=(3, None))
    with pytest.raises(BadInput, match="values must lie in 0..4, found 0..5"):
        read_npy(good, "x", lo=0, hi=4)
    np.testing.assert_array_equal(read_npy(good, "x", shape=(2, None), lo=0, hi=5), np.arange(6).reshape(2, 3))
    with pytest.raises(BadInput, match="not found"):
        read_npy(tmp_path / "missing.npy", "x")


def test_read_json_refuses_non_utf8_and_non_objects(tmp_path):
    p = tmp_path / "j.json"
    p.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(BadInput, match="not UTF-8"):
        read_json(p)
    p.write_text("[1, 2]")
    with pytest.raises(BadInput, match="JSON object, not list"):
        read_json(p)
    p.write_text('{"a": ')
    with pytest.raises(BadInput, match="not valid JSON"):
        read_json(p)
    p.write_text('{"a": 1}')
    assert read_json(p) == {"a": 1}


# ------------------------------------------------------------------------------------------------- outputs
def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_staged_output_replaces_only_when_complete(tmp_path):
    out = tmp_path / "out"
    with staged_output(out) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (out / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError):
        with staged_output(out) as tmp:
            (tmp / "a.txt").write_text("second")
            raise RuntimeError("simulation crashed")
    assert (out / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]          # no temporary folder left
    with staged_output(out) as tmp:
        (tmp / "b.txt").write_text("third")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]


def test_output_paths_that_would_lose_data_are_refused(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    (job / "dram.bin").write_bytes(b"\x01\x02")
    before = _digest(job)
    for out in (job, job / "sub", job / "sub" / "deeper"):
        with pytest.raises(BadInput, match="input"):
            check_output_path(out, [job])
    assert check_output_path(job / "out-rtl", [job], allow=[job / "out-rtl"]) == (job / "out-rtl").resolve()
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInput, match="not a folder"):
        check_output_path(tmp_path / "file" / "out")
    with pytest.raises(BadInput, match="not a folder"):
        check_output_path(tmp_path / "file")
    assert _digest(job) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(BadInput, match="not writable"):
            check_output_path(ro / "out")
    finally:
        ro.chmod(stat.S_IRWXU)


# ------------------------------------------------------------------------------------------------- options, results
def test_run_options_travel_through_the_environment_unchanged():
    opts = RunOptions(latency=200, cycle_limit=12345, waves=True, seed=7)
    env = opts.to_env()
    assert list(env) == [RunOptions.ENV]
    assert RunOptions.from_env(env) == opts
    assert RunOptions.from_env({}) == RunOptions()
    assert RunOptions(latency=None).with_defaults(latency=32).latency == 32
    assert RunOptions(latency=5).with_defaults(latency=32).latency == 5
    # a child process sees the same object (that is how the cocotb test gets it)
    code = "from sw.common.contract import RunOptions; print(RunOptions.from_env().latency)"
    got = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert got == "200"


@pytest.mark.parametrize("kw,msg", [({"latency": 0}, "--latency must be 1..65535, not 0"),
                                    ({"latency": 70000}, "--latency must be 1..65535, not 70000"),
                                    ({"cycle_limit": -5}, "--cycle-limit must be"),
                                    ({"cycle_limit": 1 << 50}, "--cycle-limit must be"),
                                    ({"seed": -1}, "--seed must be"), ({"latency": 2.5}, "must be an integer")])
def test_run_options_refuse_nonsense(kw, msg):
    with pytest.raises(BadInput, match=msg):
        RunOptions(**kw)


def test_result_round_trip_and_schema(tmp_path):
    r = Result("vta", "rtl", "ok", cycles=np.int64(42), counters={"gemm_uops": np.int32(3)},
               outputs={"dram": "dram.bin"}, metrics={"macs": 1024, "mac_per_cycle": 24.38})
    r.write(tmp_path)
    d = json.loads((tmp_path / "result.json").read_text())
    assert d == {"engine": "vta", "backend": "rtl", "status": "ok", "cycles": 42, "counters": {"gemm_uops": 3},
                 "outputs": {"dram": "dram.bin"}, "message": "", "macs": 1024, "mac_per_cycle": 24.38}
    assert Result.read(tmp_path) == r
    with pytest.raises(ValueError, match="status"):
        Result("vta", "rtl", "fine")
    with pytest.raises(ValueError, match="clashes"):
        Result("vta", "rtl", "ok", metrics={"cycles": 3})


# ------------------------------------------------------------------------------------------------- register maps
MAP = RegisterMap("toy", [
    Reg("control", 0x00, "ctrl", doc="start / status"),
    Reg("base", 0x04, "rw", doc="a base address"),
    Reg("mode", 0x08, "rw", width=3),
    Reg("error_code", 0x0C, "status", width=8),
    Reg("cycles", 0x10, "counter", inc_width=0),
    Reg("busy", 0x14, "counter"),
    Reg("ops", 0x18, "counter", width=64, inc_width=8),
    Reg("peak", 0x20, "peak", inc_width=8),
    Reg("total", 0x24, "counter", clear_on_start=False),
])


def test_register_map_rejects_overlaps_and_derives_everything():
    with pytest.raises(ValueError, match="overlaps"):
        RegisterMap("bad", [Reg("control", 0, "ctrl"), Reg("a", 4, "counter", width=64), Reg("b", 8, "rw")])
    with pytest.raises(ValueError, match="exactly one ctrl"):
        RegisterMap("bad", [Reg("a", 0, "rw")])
    with pytest.raises(ValueError, match="multiple of 4"):
        Reg("a", 2, "rw")
    assert MAP.counters() == ["cycles", "busy", "ops", "peak", "total"]
    assert MAP.span == 0x28 and MAP.addr_bits == 6
    assert MAP.offset("ops") == 0x18
    with pytest.raises(KeyError, match="registers: control"):
        MAP.offset("nope")
    md = MAP.markdown()
    assert "| 0x18/0x1C | ops | ro | 64 | yes |" in md and "| 0x24 | total | ro | 32 | no |" in md
    assert [r["name"] for r in MAP.manifest()] == [r.name for r in MAP]


def test_register_file_generated_from_the_table():
    dut = RegisterFile(MAP)
    seen = {}

    async def bench(ctx):
        async def write(name, value):
            ctx.set(dut.host.addr, MAP.offset(name))
            ctx.set(dut.host.w_data, value)
            ctx.set(dut.host.w_stb, 1)
            await ctx.tick()
            ctx.set(dut.host.w_stb, 0)

        def read(addr):
            ctx.set(dut.host.addr, addr)
            return ctx.get(dut.host.r_data)

        await write("base", 0xDEADBEEF)
        await write("mode", 0xFF)
        assert ctx.get(dut.base) == 0xDEADBEEF and read(4) == 0xDEADBEEF
        assert ctx.get(dut.mode) == 7                       # 3 bits stored
        ctx.set(dut.error_code, 0x5A)
        assert read(0x0C) == 0x5A
        await write("control", 1)
        for k in range(10):                                 # 10 running cycles
            ctx.set(dut.count_busy, k % 2)
            ctx.set(dut.count_ops, 200)
            ctx.set(dut.count_peak, [3, 9, 4][k % 3])
            ctx.set(dut.count_total, 1)
            await ctx.tick()
        ctx.set(dut.finish, 1)
        await ctx.tick()
        ctx.set(dut.finish, 0)
        ctx.set(dut.count_ops, 255)
        await ctx.tick()                                    # not running: nothing counts
        seen["first"] = {n: read(MAP.offset(n)) for n in ("cycles", "busy", "ops", "peak", "total")}
        seen["ops_hi"] = read(0x1C)
        seen["ctrl"] = read(0)
        await write("control", 1)                           # a new start clears all but 'total'
        seen["second"] = {n: read(MAP.offset(n)) for n in ("cycles", "busy", "ops", "peak", "total")}
        seen["ctrl2"] = read(0)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen["first"] == {"cycles": 11, "busy": 6, "ops": 11 * 200, "peak": 9, "total": 11}
    assert seen["ops_hi"] == 0 and seen["ctrl"] == 0b010
    assert seen["second"] == {"cycles": 0, "busy": 0, "ops": 0, "peak": 0, "total": 11}
    assert seen["ctrl2"] == 0b001


# ------------------------------------------------------------------------------------------------- registry
def test_every_engine_is_registered_with_its_default_config():
    assert engines.names() == ["cap", "rbe", "systolic", "vta", "xpulpnn"]
    for name in engines.names():
        mod = engines.get(name)
        assert (ROOT / mod.DEFAULT_CONFIG).is_file(), name
        cfg = mod.load_config(ROOT / mod.DEFAULT_CONFIG)
        assert cfg.digest()
    with pytest.raises(ValueError, match="engines: cap, rbe"):
        engines.get("tpu")


def test_sim_help_lists_the_engines(capsys):
    from sim.cli import main
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    out = capsys.readouterr().out
    for name in engines.names():
        assert name in out
