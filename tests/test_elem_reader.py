"""ElemReader under Amaranth's simulator against a Python word memory (unit level)."""

import random

import pytest
from amaranth.sim import Simulator

from hw.common.elem_reader import ElemReader


def _expected(mem_bytes, base, elem, x_size, y_size, x_stride, eb):
    out = []
    for y in range(y_size):
        for x in range(x_size):
            a = base + (elem + y * x_stride + x) * eb
            out.append(int.from_bytes(mem_bytes[a:a + eb], "little"))
    return out


def _run(elem_bits, data_width, cmds, seed, max_burst=4):
    rng = random.Random(seed)
    dut = ElemReader(elem_bits=elem_bits, data_width=data_width, max_burst=max_burst)
    bb, eb = data_width // 8, elem_bits // 8
    mem = bytes(rng.randrange(256) for _ in range(8192))
    got, expected = [], []
    for c in cmds:
        expected += _expected(mem, *c, eb)

    async def bench(ctx):
        pending = []   # (addr, len) in order
        for base, elem, x_size, y_size, x_stride in cmds:
            ctx.set(dut.cmd.payload, {"base": base, "elem": elem, "x_size": x_size,
                                      "y_size": y_size, "x_stride": x_stride})
            ctx.set(dut.cmd.valid, 1)
            await ctx.tick().until(dut.cmd.ready)
            await ctx.tick()
            ctx.set(dut.cmd.valid, 0)
            beats = []
            for _ in range(20000):
                ctx.set(dut.rd_req.ready, rng.random() < 0.7)
                ctx.set(dut.elems.ready, rng.random() < 0.8)
                if beats and rng.random() < 0.8:
                    ctx.set(dut.rd_resp.payload, {"data": beats[0][0], "last": beats[0][1]})
                    ctx.set(dut.rd_resp.valid, 1)
                else:
                    ctx.set(dut.rd_resp.valid, 0)
                if ctx.get(dut.rd_resp.valid) and ctx.get(dut.rd_resp.ready):
                    beats.pop(0)
                if ctx.get(dut.rd_req.valid) and ctx.get(dut.rd_req.ready):
                    p = ctx.get(dut.rd_req.payload)
                    for w in range(p.len + 1):
                        a = (p.addr + w) * bb
                        beats.append((int.from_bytes(mem[a:a + bb], "little"), w == p.len))
                if ctx.get(dut.elems.valid) and ctx.get(dut.elems.ready):
                    got.append(ctx.get(dut.elems.payload))
                await ctx.tick()
                if not ctx.get(dut.busy) and not beats:
                    break
            else:
                raise AssertionError("ElemReader did not finish")

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == expected


@pytest.mark.parametrize("elem_bits,data_width", [(32, 64), (128, 64), (512, 64), (8, 64),
                                                  (128, 256), (32, 256), (2048, 256), (256, 256)])
def test_rows(elem_bits, data_width):
    eb = elem_bits // 8
    n = 4096 // eb
    rng = random.Random(elem_bits * 1000 + data_width)
    cmds = [(0, 0, 3, 1, 0)]
    for _ in range(3):
        x = rng.randrange(0, 6)
        y = rng.randrange(0, 4)
        stride = x + rng.randrange(0, 4)
        elem = rng.randrange(0, max(1, n - y * stride - x))
        cmds.append((0, elem, x, y, stride))
    cmds.append((64, 1, 2, 2, 5))
    _run(elem_bits, data_width, cmds, seed=elem_bits + data_width)
