"""The CAP golden backend: every operation of a job on the AP emulator (:mod:`sw.cap.emulator`).

It runs the same chunks (micro-op programs and buffer images) as the RTL, so its outputs and counters equal
the RTL's bit for bit; it has no DMA, so ``total_cycles`` is RTL-only. It reports ``dma_read_bursts``: the
DRAM read bursts the RTL's DMA issues for the job (program, column- and row-buffer loads, up to 256 words
each), each of which waits the DRAM latency once, so the RTL's ``total_cycles`` grows by exactly
``dma_read_bursts`` cycles per cycle of ``--latency``.
"""

from __future__ import annotations

from sw.common.contract import Result, RunOptions

from .emulator import APEmulator
from .golden import execute_chunk
from .job import CapJob, cap_result, op_result
from .programs import ProgramError, op_chunks, run_generator

__all__ = ["run_golden", "DEFAULT_CYCLE_LIMIT", "read_bursts"]

#: Words per DMA read burst (hw/cap/dma.py).
BURST_WORDS = 256


def read_bursts(cfg, chunk) -> int:
    """DRAM read bursts the RTL issues to load one chunk (program, then the buffer images)."""
    words = (len(chunk.program.uops), len(chunk.col_in) * cfg.col_lanes, len(chunk.row_in) * cfg.row_lanes)
    return sum(-(-n // BURST_WORDS) for n in words)

#: Cycle limit when neither --cycle-limit nor the job gives one.
DEFAULT_CYCLE_LIMIT = 100_000_000


def run_golden(job: CapJob, out, options: RunOptions = RunOptions()) -> Result:
    """Run ``job`` on the emulator, write ``out/op<k>.npy``; the result's cycles are the micro-op cycles.

    The cycle limit applies to the summed micro-op cycles: the operation that crosses it ends the job with
    status ``timeout`` (its output is not written).
    """
    limit = options.cycle_limit or job.cycle_limit or DEFAULT_CYCLE_LIMIT
    emu = APEmulator(job.cfg)
    results, outputs = [], []
    bursts = [0]

    def execute(ch):
        bursts[0] += read_bursts(job.cfg, ch)
        return execute_chunk(emu, ch)

    for k, o in enumerate(job.ops):
        try:
            res, counters, runs = run_generator(op_chunks(job.cfg, o["op"], o["bits"], o["signed"], o["arrs"],
                                                          o["window"]), execute)
        except ProgramError as e:
            return cap_result("golden", "error", f"ops[{k}]: {e}", results, outputs, out)
        done = sum(r["cycles"] for r in results)
        if done + counters["cycles"] > limit:
            return cap_result("golden", "timeout", f"ops[{k}] ({o['op']}): the cycle limit {limit:,} is reached "
                              f"after {done:,} cycles; the operation needs {counters['cycles']:,} more",
                              results, outputs, out)
        results.append(op_result(o, counters, runs))
        outputs.append(res)
    return cap_result("golden", "ok", "", results, outputs, out, dma_read_bursts=bursts[0])
