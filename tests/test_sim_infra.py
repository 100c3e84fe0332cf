"""Simulation infrastructure: cached Verilog generation, cached Verilator builds, cocotb runs.

The Verilator build of the MemCopy fixture lives in the shared ``build/sim`` cache, so only the first
run after a change to hw/, sim/simtop.py, the DRAM model or the fixture pays for it (~10 s).
"""

import os

import numpy as np
import pytest
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import sim.verilator as sim_verilator
from hw.common.bus import MemBusSignature
from sim.cocotb_util import hex_to_image, image_to_hex
from sim.runner import format_table
from sim.simtop import SimTop
from sim.verilog import generate
from tb.common.harness import memcopy_build, run_memcopy_tests
from tb.common.memcopy import MemCopy


# ---- pure Python -------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:.*created but never used")
def test_simtop_rejects_bad_dut():
    with pytest.raises(TypeError, match="wiring.Component"):
        SimTop(object())

    class NoMem(wiring.Component):
        x: In(1)

        def elaborate(self, platform):
            raise NotImplementedError

    with pytest.raises(TypeError, match="no member named 'mem'"):
        SimTop(NoMem())

    class FlippedMem(wiring.Component):
        mem: In(MemBusSignature(64))

        def elaborate(self, platform):
            raise NotImplementedError

    with pytest.raises(TypeError, match="Out\\(MemBusSignature"):
        SimTop(FlippedMem())
    with pytest.raises(ValueError, match="dram_depth_log2"):
        SimTop(MemCopy(64), dram_depth_log2=0)


@pytest.mark.filterwarnings("ignore:.*created but never used")
def test_simtop_ports():
    top = SimTop(MemCopy(64), dram_depth_log2=12)
    names = {"__".join(p): m.flow for p, m, _ in top.signature.flatten(top)}
    assert names["host__addr"] == In and names["host__r_data"] == Out
    assert names["done"] == Out and names["dram_oob"] == Out and names["dram_load"] == In
    assert not any(n.startswith("mem") for n in names)


@pytest.mark.parametrize("width", [32, 64, 128])
def test_hex_roundtrip(width):
    rng = np.random.default_rng(width)
    image = rng.integers(0, 256, 1000, dtype=np.uint8)     # not a whole number of words
    text = image_to_hex(image, width)
    lines = text.split()
    assert all(len(ln) == width // 4 for ln in lines)
    assert len(lines) == -(-1000 // (width // 8))
    # word 0 holds bytes 0..B-1, little-endian: its last two hex digits are byte 0
    assert int(lines[0][-2:], 16) == image[0]
    assert np.array_equal(hex_to_image(text, width, 1000), image)


def test_format_table():
    text = format_table([{"a": "x", "n": 1234}, {"a": "yy", "n": 5}], ["a", ("N", "n", ",d")])
    assert text.splitlines()[2] == "x   1,234"


# ---- caches ------------------------------------------------------------------------------------

def test_verilog_generation_is_cached(tmp_path):
    calls = []

    def make_top():
        calls.append(1)
        return SimTop(MemCopy(64), dram_depth_log2=10)

    key = {"engine": "memcopy", "data_width": 64, "dram_depth_log2": 10}
    first = generate("memcopy", make_top, key, tmp_path)
    assert len(calls) == 1
    assert (first.dir / "memcopy.v").exists() and (first.dir / "accelgen_dram.v").exists()
    assert (first.dir / "config.json").exists() and (first.dir / "manifest.json").exists()
    assert first.ports["host__addr"] == {"dir": "input", "width": 8}
    mtime = (first.dir / "memcopy.v").stat().st_mtime_ns

    again = generate("memcopy", make_top, key, tmp_path)
    assert len(calls) == 1, "cache hit must not elaborate or convert again"
    assert again.digest == first.digest and again.files == first.files
    assert (first.dir / "memcopy.v").stat().st_mtime_ns == mtime

    other = generate("memcopy", make_top, {**key, "dram_depth_log2": 11}, tmp_path)
    assert other.digest != first.digest and other.dir != first.dir


def test_verilator_build_is_cached():
    first = memcopy_build()
    stamp = first.dir / "stamp.json"
    assert stamp.exists() and (first.dir / first.top_name).exists()
    mtime = stamp.stat().st_mtime_ns
    before = sim_verilator.build_invocations
    again = memcopy_build()
    assert sim_verilator.build_invocations == before, "a cached build must not run Verilator"
    assert again == first and stamp.stat().st_mtime_ns == mtime


# ---- cocotb on Verilator -----------------------------------------------------------------------

@pytest.mark.rtl
def test_memcopy_cocotb(tmp_path):
    res = run_memcopy_tests(tmp_path / "run", seed=1234)
    assert res.passed, res.summary()
    names = {t.name for t in res.tests}
    assert {"test_copy_latency1", "test_copy_latency40", "test_out_of_range_sets_oob"} <= names
    by_name = {t.name: t for t in res.tests}
    for lat in (1, 40):
        data = by_name[f"test_copy_latency{lat}"].data
        assert data["latency"] == lat and data["words"] == 1000
        assert 1000 + lat <= data["cycles"] <= data["bound"]
    assert res.results_xml.exists() and res.log_path.exists()


@pytest.mark.rtl
def test_run_cocotb_reports_failures_without_raising(tmp_path):
    # A long copy that cannot fit in the DRAM: the test body fails its own assertion. The failure must
    # come back in the RunResult (under pytest, cocotb's runner would otherwise exit).
    res = run_memcopy_tests(tmp_path / "run", testcase="test_long_copy", long_words=1 << 30)
    assert not res.passed
    [t] = res.tests
    assert t.name == "test_long_copy" and not t.passed and "does not fit" in t.message


@pytest.mark.rtl
def test_waves_env_does_not_break_cached_build(tmp_path, monkeypatch):
    # cocotb honours WAVES=1 over its arguments; accelgen decides tracing itself.
    monkeypatch.setenv("WAVES", "1")
    res = run_memcopy_tests(tmp_path / "run", testcase="test_copy_latency1")
    assert res.passed, res.summary()
    assert not any(p.name.startswith("dump.") for p in (tmp_path / "run").iterdir())
