"""cocotb tests of the MemCopy fixture on the SimTop DRAM (run via tb.common.harness / run_cocotb).

Cycle bound, derived from the design: a read request is accepted the first busy cycle; its first beat
returns ``L`` cycles later; the buffered FIFO adds 2 cycles before the write. Credits keep up to
``fifo_depth`` (64) words in flight, so when ``64 >= L + 2 + max_burst`` no request waits for
credits and the DRAM streams back to back: ``cycles <= N + L + SLACK`` (SLACK covers the pipeline
cycles at both ends). A copy without overlapping bursts would take about ``N + L * N / 16``.
"""

import json
import os
import time

import numpy as np

import cocotb

from sim.cocotb_util import Dram, RegBus, record, reset, start_clock, wait_until
from tb.common.memcopy import REG_COUNT, REG_CTRL, REG_CYCLES, REG_DST, REG_SRC

CONFIG = json.loads(os.environ.get("MEMCOPY_CONFIG", '{"data_width": 64, "dram_depth_log2": 21}'))
DW = CONFIG["data_width"]
DEPTH = 1 << CONFIG["dram_depth_log2"]
SLACK = 8


async def start_copy(dut, regs, src, dst, count):
    await regs.write(REG_SRC, src)
    await regs.write(REG_DST, dst)
    await regs.write(REG_COUNT, count)
    await regs.write(REG_CTRL, 1)


async def finish(dut, clk, limit):
    fired = await wait_until(dut, [dut.done], cycle_limit=limit, clk=clk)
    assert fired == "done", f"copy did not finish within {limit} cycles (hung?)"


async def copy_and_check(dut, latency, n=1000):
    clk = start_clock(dut)
    await reset(dut)
    rng = np.random.default_rng(cocotb.RANDOM_SEED)
    dram, regs = Dram(dut, DW), RegBus(dut)
    dram.set_latency(latency)
    b = DW // 8
    src, dst, total = 16, 2048, 4096           # word addresses; image covers both regions
    image = rng.integers(0, 256, total * b, dtype=np.uint8)
    await dram.load(image)
    await start_copy(dut, regs, src, dst, n)
    await finish(dut, clk, limit=10 * (n + latency) + 1000)
    cycles = await regs.read(REG_CYCLES)
    out = await dram.dump(total * b)
    expect = image.copy()
    expect[dst * b:(dst + n) * b] = image[src * b:(src + n) * b]
    bad = np.flatnonzero(out != expect)
    assert bad.size == 0, f"{bad.size} bytes differ, first at byte {bad[0]} (word {bad[0] // b})"
    assert int(dut.dram_oob.value) == 0, "dram_oob set by an in-range copy"
    assert int(dut.dram_rd_beats.value) == n and int(dut.dram_wr_beats.value) == n
    bound = n + latency + SLACK
    record("copy", latency=latency, words=n, cycles=cycles, bound=bound,
           no_overlap_estimate=n + latency * n // 16)
    assert cycles <= bound, f"copy of {n} words at latency {latency}: {cycles} cycles > {bound}"


@cocotb.test()
async def test_copy_latency1(dut):
    await copy_and_check(dut, 1)


@cocotb.test()
async def test_copy_latency40(dut):
    await copy_and_check(dut, 40)


@cocotb.test()
async def test_out_of_range_sets_oob(dut):
    clk = start_clock(dut)
    await reset(dut)
    regs = RegBus(dut)
    Dram(dut, DW).set_latency(3)
    assert int(dut.dram_oob.value) == 0
    # Read the last 8 words of the DRAM and 8 beyond; write inside.
    await start_copy(dut, regs, DEPTH - 8, 0, 16)
    await finish(dut, clk, limit=1000)
    assert int(dut.dram_oob.value) == 1, "reading beyond the DRAM did not set dram_oob"
    await reset(dut)
    assert int(dut.dram_oob.value) == 0, "reset did not clear dram_oob"
    await start_copy(dut, regs, 0, DEPTH - 4, 8)       # writes beyond the end
    await finish(dut, clk, limit=1000)
    assert int(dut.dram_oob.value) == 1, "writing beyond the DRAM did not set dram_oob"
    record("oob", words=16)


@cocotb.test(skip=int(os.environ.get("MEMCOPY_LONG_WORDS", "0")) <= 0)
async def test_long_copy(dut):
    """Simulation speed: a long copy with no Python activity while it runs."""
    n = int(os.environ["MEMCOPY_LONG_WORDS"])
    assert 2 * n <= DEPTH, f"MEMCOPY_LONG_WORDS={n} does not fit twice in {DEPTH} words"
    clk = start_clock(dut)
    await reset(dut)
    regs = RegBus(dut)
    Dram(dut, DW).set_latency(20)
    await start_copy(dut, regs, 0, n, n)
    t0 = time.perf_counter()
    await finish(dut, clk, limit=2 * n + 1000)
    wall = time.perf_counter() - t0
    cycles = await regs.read(REG_CYCLES)
    record("long", latency=20, words=n, cycles=cycles, wall_s=round(wall, 3),
           cycles_per_s=cycles / wall)
    assert cycles <= n + 20 + SLACK
