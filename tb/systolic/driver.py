"""Run a planned layer on the ``SimTop(Systolic(cfg))`` from inside a cocotb test.

Per run of the plan: the runtime's memory images are written into the simulated DRAM in one bulk load, the
DMA copies them into the vector memories and weight banks, the array computes, and the DMA copies the
result words back to DRAM, which is dumped in one piece. Python only writes registers and sleeps in the
simulator between them (no per-cycle Python). Registers are accessed by name through the one table,
:mod:`sw.systolic.regs`.
"""

from dataclasses import dataclass, field

import numpy as np
from cocotb.triggers import RisingEdge

from sim.cocotb_util import Dram, RegBus, reset, start_clock, wait_until
from sw.systolic import schedule as S
from sw.systolic.job import DEFAULT_LATENCY
from sw.systolic.regs import BUSY_BITS, COUNTERS, REGS, TARGET_ARRAY, TARGET_DMA

__all__ = ["RunStats", "LayerResult", "run_layer", "dram_depth_log2", "DMA_LATENCY"]

#: DRAM read latency of the DMA's loads unless the run options give another (cycles).
DMA_LATENCY = DEFAULT_LATENCY


def dram_depth_log2(cfg) -> int:
    """DRAM words the largest run can need: every vector memory twice (in, out) plus the weight banks."""
    words = cfg.n_mems * cfg.MEM_DEPTH * 2 + cfg.R * cfg.WGT_DEPTH
    return max(10, (words - 1).bit_length())


@dataclass
class RunStats:
    cycles: int
    counters: dict


@dataclass
class LayerResult:
    status: str
    message: str
    ofmap: np.ndarray = field(repr=False)
    cycles: int = 0
    counters: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)


def _pack(words: np.ndarray, bus_bytes: int) -> np.ndarray:
    """Rows of little-endian bytes (one memory word per row) zero-extended to bus words."""
    raw = np.ascontiguousarray(words).view(np.uint8).reshape(words.shape[0], -1)
    out = np.zeros((words.shape[0], bus_bytes), np.uint8)
    out[:, :raw.shape[1]] = raw
    return out


async def _wait(dut, clk, regs, what, limit):
    # ``done`` falls on the edge that took the start command; let that edge settle before looking at it.
    await RisingEdge(clk)
    fired = await wait_until(dut, [dut.done], cycle_limit=limit, clk=clk)
    if fired is None:
        st = await regs.read(REGS.offset("busy"))
        busy = [n for b, n in ((BUSY_BITS["array"], "the array (sequencer still issuing or draining)"),
                               (BUSY_BITS["dma"], "the DMA")) if st >> b & 1]
        return f"{what} did not finish within {limit:,} cycles; busy: {', '.join(busy) or 'nothing'}"
    return None


async def _dma(dut, clk, regs, *, dram_addr, words, n_mems, mem_addr, weights=False, store=False, limit):
    for name, v in (("dram_addr", dram_addr), ("words", words), ("n_mems", n_mems), ("mem_addr", mem_addr),
                    ("flags", int(weights) | int(store) << 1)):
        await regs.write(REGS.offset(f"dma_{name}"), v)
    await regs.write(REGS.offset("target"), TARGET_DMA)
    await regs.write(REGS.offset("ctrl"), 1)
    err = await _wait(dut, clk, regs, "DMA " + ("store" if store else "load"), limit)
    return err, int(await regs.read(REGS.offset("dma_cycles")))


async def _read_counter(regs, name):
    r = REGS[name]
    value = await regs.read(r.offset)
    if r.words == 2:
        value |= (await regs.read(r.offset + 4)) << 32
    return value


async def run_layer(dut, cfg, layer, ifmap, weights, *, cycle_limit=50_000_000, first=True,
                    latency=DMA_LATENCY) -> LayerResult:
    """Run ``layer`` (ifmap NHWC int8, weights KH,KW,C_I,C_O int8) and return the ofmap and the counters.

    ``latency`` is the DRAM read latency the DMA's loads see (it moves ``dma_cycles``, not the array's
    ``cycles``, which start when the operands are on chip).

    ``cycles`` sums the array cycles (start to done) of every run; ``counters`` sums the engine counters
    (``min_read_gap`` is the minimum); ``dma_cycles`` sums the copy time, which is not part of ``cycles``.
    """
    clk = start_clock(dut)
    if first:
        await reset(dut)
    bus_bytes = cfg.bus_width // 8
    dram = Dram(dut, cfg.bus_width)
    dram.set_latency(latency)
    regs = RegBus(dut)
    plan = S.plan(cfg, layer)
    xpad = S.pad_input(layer, ifmap)
    ofmap = np.zeros((layer.batch, layer.out_height, layer.out_width, layer.out_channels), np.int64)
    res = LayerResult("ok", "", ofmap)
    total = {c: 0 for c in COUNTERS}
    total["min_read_gap"] = None
    for k, run in enumerate(plan.runs):
        mem = S.input_image(cfg, layer, run, xpad)                     # (R, in_words, W) int32
        wgt = S.weight_image(cfg, layer, run, weights)                 # (R, folds, C) int8
        vec_words = cfg.R * run.in_words
        wgt_base = vec_words
        out_dram = wgt_base + cfg.R * run.folds
        image = np.concatenate([_pack(mem.reshape(vec_words, cfg.W).astype("<i4"), bus_bytes),
                                _pack(wgt.reshape(-1, cfg.C), bus_bytes)])
        await dram.load(image.reshape(-1))
        limit = 64 * (vec_words + 1024)
        err, dma_vec = await _dma(dut, clk, regs, dram_addr=0, words=run.in_words, n_mems=cfg.R, mem_addr=0,
                                  limit=limit)
        if not err:
            err, dma_wgt = await _dma(dut, clk, regs, dram_addr=wgt_base, words=run.folds, n_mems=cfg.R,
                                      mem_addr=0, weights=True, limit=limit)
        if not err:
            for name, v in run.regs().items():
                await regs.write(REGS.offset(name), v)
            await regs.write(REGS.offset("target"), TARGET_ARRAY)
            await regs.write(REGS.offset("ctrl"), 1)
            err = await _wait(dut, clk, regs, f"run {k} of {len(plan.runs)} (array)",
                              min(cycle_limit, 4 * S.run_cycles(cfg, run) + 10_000))
        counters = {c: int(await _read_counter(regs, c)) for c in COUNTERS}
        if not err and (await regs.read(REGS.offset("ctrl"))) >> 2 & 1:
            err = f"run {k}: a de-serializer word arrived while its memory's write buffer was full"
        if not err:
            err, dma_out = await _dma(dut, clk, regs, dram_addr=out_dram, words=run.out_words, n_mems=cfg.C,
                                      mem_addr=run.out_base, store=True, limit=8 * cfg.C * run.out_words + 1024)
        if err:
            res.status, res.message = ("timeout" if "did not finish" in err else "error"), err
            break
        raw = await dram.dump((out_dram + cfg.C * run.out_words) * bus_bytes)
        words = raw[out_dram * bus_bytes:].reshape(cfg.C * run.out_words, bus_bytes)[:, :cfg.W * 4]
        out = np.ascontiguousarray(words).view("<i4").reshape(cfg.C, run.out_words, cfg.W)
        S.output_from_image(cfg, layer, run, out, ofmap)
        counters["dma_cycles"] = dma_vec + dma_wgt + dma_out
        res.runs.append(RunStats(counters["cycles"], counters))
        for c in COUNTERS:
            if c == "min_read_gap":
                g = counters[c]
                total[c] = g if total[c] is None else min(total[c], g)
            else:
                total[c] += counters[c]
    res.cycles = total["cycles"]
    res.counters = total
    res.ofmap = ofmap.astype(np.int32)
    return res
