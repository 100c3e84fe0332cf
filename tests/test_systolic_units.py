"""Unit tests of single systolic components in Amaranth's simulator (the integration runs on Verilator)."""

from amaranth.sim import Simulator

from hw.systolic.pe import PE
from hw.systolic.serializer import Serializer
from hw.systolic.vector_memory import VectorMemory
from sw.systolic.config import SystolicConfig


def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_pe_swaps_to_the_shadow_weight_with_the_fold_marker():
    dut = PE()
    seen = []

    async def bench(ctx):
        ctx.set(dut.w_data, 3)
        ctx.set(dut.w_load, 1)
        await ctx.tick()
        ctx.set(dut.w_load, 0)
        # First element of the fold: multiplied by the shadow (3), which becomes live.
        for a, swap, psum in ((5, 1, 100), (-7, 0, 1), (2, 0, 0)):
            ctx.set(dut.a_in, a)
            ctx.set(dut.swap_in, swap)
            ctx.set(dut.psum_in, psum)
            if a == -7:             # a new shadow weight does not disturb the live one
                ctx.set(dut.w_data, -4)
                ctx.set(dut.w_load, 1)
            await ctx.tick()
            ctx.set(dut.w_load, 0)
            seen.append((ctx.get(dut.psum_out), ctx.get(dut.a_out), ctx.get(dut.swap_out)))
        ctx.set(dut.a_in, 10)
        ctx.set(dut.swap_in, 1)
        ctx.set(dut.psum_in, 0)
        await ctx.tick()
        seen.append((ctx.get(dut.psum_out), ctx.get(dut.a_out), ctx.get(dut.swap_out)))

    _run(dut, bench)
    assert seen == [(115, 5, 1), (-20, -7, 0), (6, 2, 0), (-40, 10, 1)]


def test_serializer_shows_one_lane_per_cycle():
    cfg = SystolicConfig(R=4, C=4, W=4)
    dut = Serializer(cfg)
    out = []

    async def bench(ctx):
        words = [[1, -2, 3, 127], [-128, 5, 6, 7]]
        for word in words:
            for i, v in enumerate(word):
                ctx.set(dut.word[i], v & 0xFFFFFFFF)
            ctx.set(dut.load, 1)
            await ctx.tick()
            ctx.set(dut.load, 0)
            for _ in range(cfg.W):
                out.append(ctx.get(dut.elem))
                await ctx.tick()

    _run(dut, bench)
    assert out == [1, -2, 3, 127, -128, 5, 6, 7]


def test_vector_memory_moves_a_write_off_a_read_cycle():
    cfg = SystolicConfig(R=4, C=4, W=2, MEM_DEPTH=64)
    dut = VectorMemory(cfg)
    trace = []

    async def bench(ctx):
        # A result word arrives in the same cycle as a serializer read: it waits one cycle in the buffer.
        ctx.set(dut.rd, 1)
        ctx.set(dut.rd_addr, 0)
        ctx.set(dut.wr_valid, 1)
        ctx.set(dut.wr_addr, 9)
        ctx.set(dut.wr_data[0], 11)
        ctx.set(dut.wr_data[1], 22)
        trace.append((ctx.get(dut.wrote), ctx.get(dut.conflict)))
        await ctx.tick()
        ctx.set(dut.rd, 0)
        ctx.set(dut.wr_valid, 0)
        trace.append((ctx.get(dut.wrote), ctx.get(dut.conflict), ctx.get(dut.pending)))
        await ctx.tick()
        ctx.set(dut.rd, 1)
        ctx.set(dut.rd_addr, 9)
        await ctx.tick()
        trace.append((ctx.get(dut.rdata[0]), ctx.get(dut.rdata[1]), ctx.get(dut.pending)))

    _run(dut, bench)
    assert trace == [(0, 0), (1, 0, 1), (11, 22, 0)]
