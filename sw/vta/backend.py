"""The VTA golden backend: ``run_golden(job, out, options) -> Result`` (the RTL one is ``tb.vta.backend.run_rtl``).

The golden model is untimed: ``cycles`` is 0 and the run options (latency, cycle limit) do not apply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..common.contract import Result, RunOptions
from .job import DRAM_FILE, ENGINE

__all__ = ["run_golden", "result_metrics"]


def result_metrics(cfg, counters: dict, cycles: int) -> dict:
    """Metrics at the top level of ``result.json``: MACs (GEMM micro-op iterations x MACs each) and MAC/cycle."""
    macs = int(counters.get("gemm_uops", 0)) * cfg.macs_per_cycle
    out = {"macs": macs}
    if cycles:
        out["mac_per_cycle"] = round(macs / cycles, 3)
    return out


def run_golden(job, out, options: RunOptions | None = None) -> Result:
    """Run a loaded :class:`sw.vta.job.VTAJob` on the golden model; write ``out/dram.bin``.

    Returns
    -------
    Result
        Status ``ok``, ``timeout`` (no progress possible: the message names what waits on what) or
        ``error`` (the message names the instruction); counters ``insn_executed``, ``gemm_uops``,
        ``alu_uops``, ``load_bytes``, ``store_bytes``.
    """
    from .golden import run
    r = run(job.cfg, job.dram, job.insn_addr, job.insn_count)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DRAM_FILE).write_bytes(np.asarray(r.dram, np.uint8).tobytes())
    counters = {k: int(v) for k, v in r.counters.items()}
    return Result(ENGINE, "golden", r.status, 0, counters, {"dram": DRAM_FILE}, r.message,
                  metrics=result_metrics(job.cfg, counters, 0))
