"""RBE datapath units in Amaranth's simulator: BinConv, Block and NormQuant against the arithmetic of the spec."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.rbe.binconv import BinConv
from hw.rbe.block import Block
from hw.rbe.normquant import NormQuant
from sw.rbe.golden import normquant
from sw.rbe.layer import RBELayer

# BinConv(0) raises before elaboration; Amaranth then warns that the half-made object was never used.
pytestmark = pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")


def _run(dut, bench, clock=True):
    sim = Simulator(dut)
    if clock:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


def test_constructor_errors():
    with pytest.raises(ValueError, match="width must be a positive integer, not 0"):
        BinConv(0)


def test_binconv_and_block():
    seed = 7
    print(f"seed {seed}")
    rng = random.Random(seed)
    blk = Block(32, 4)

    async def bench(ctx):
        for _ in range(300):
            w, x, shift = rng.getrandbits(32), rng.getrandbits(128), rng.randrange(8)
            ctx.set(blk.w, w)
            ctx.set(blk.x, x)
            ctx.set(blk.shift, shift)
            planes = [(x >> (32 * b)) & 0xFFFFFFFF for b in range(4)]
            want = sum(bin(w & p).count("1") << b for b, p in enumerate(planes)) << shift
            assert ctx.get(blk.sum) == want
        for w, x in ((0xFFFFFFFF, (1 << 128) - 1), (0, (1 << 128) - 1)):    # extremes
            ctx.set(blk.w, w)
            ctx.set(blk.x, x)
            ctx.set(blk.shift, 7)
            assert ctx.get(blk.sum) == (32 * 15 << 7 if w else 0)

    _run(blk, bench, clock=False)


@pytest.mark.parametrize("relu", [False, True])
def test_normquant_matches_the_golden_rule(relu):
    seed = 11 + relu
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    nq = NormQuant(33)

    async def bench(ctx):
        for _ in range(400):
            qao = int(rng.integers(2, 9))
            shift = int(rng.integers(0, 48))
            acc = int(rng.integers(-(1 << 31), 1 << 31)) >> int(rng.integers(0, 31))
            kappa = int(rng.integers(0, 1 << 16))
            lam = int(rng.integers(-(1 << 31), 1 << 31))
            for sig, v in ((nq.value, acc), (nq.kappa, kappa), (nq.lam, lam), (nq.shift, shift), (nq.qao, qao),
                           (nq.relu, relu)):
                ctx.set(sig, v)
            await ctx.tick()
            lay = RBELayer("1x1", 4, 4, qao, 32, 1, 1, 1, relu, shift)
            want = int(normquant(np.array([[[acc]]]), np.array([kappa]), np.array([lam]), lay)[0, 0, 0])
            assert ctx.get(nq.y) == want, (acc, kappa, lam, shift, qao, relu)

    _run(nq, bench)
