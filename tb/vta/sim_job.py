"""Run one VTA job on the RTL from inside a cocotb test.

The whole run happens in the simulator: the DRAM image is bulk-loaded, the host registers are written,
and Python sleeps until ``finish``/``error`` rises or the cycle limit passes. On a timeout the status
registers are read back and turned into a sentence that says which module waits on which queue.
"""

from dataclasses import dataclass, field

import numpy as np

from cocotb.triggers import RisingEdge

from hw.vta.fetch import FetchError
from sim.cocotb_util import Dram, RegBus, reset, start_clock, wait_until
from sw.vta.job import DEFAULT_LATENCY
from sw.vta.regs import BASE_REGS, COUNTERS as REG_COUNTERS, REGS, STATUS_REGS

__all__ = ["RtlResult", "run_on_dut", "DEFAULT_LATENCY", "COUNTERS"]

#: Counters of every RTL result: the register table's counters, then the DRAM model's beat counts.
COUNTERS = REG_COUNTERS + ("dram_read_beats", "dram_write_beats")
_ERRORS = {FetchError.OPCODE: "unknown opcode", FetchError.MEMORY_TYPE: "memory type not allowed",
           FetchError.ALU_OPCODE: "unknown ALU opcode", FetchError.INDEX: "index beyond a scratchpad",
           FetchError.STORE_PAD: "STORE with a non-zero pad field"}


@dataclass
class RtlResult:
    status: str
    cycles: int
    counters: dict
    message: str
    dram: np.ndarray = field(repr=False)


def _describe_wait(regs_values):
    """Turn the status registers into 'compute waits on pop_prev (queue load->compute is empty) ...'."""
    parts = []
    waits = {
        "load": {2: "pop_next (queue compute->load is empty)", 4: "push_next (queue load->compute is full)"},
        "compute": {1: "pop_prev (queue load->compute is empty)", 2: "pop_next (queue store->compute is empty)",
                    3: "push_prev (queue compute->load is full)", 4: "push_next (queue compute->store is full)"},
        "store": {1: "pop_prev (queue compute->store is empty)", 3: "push_prev (queue store->compute is full)"},
    }
    for module, bits in waits.items():
        st = regs_values[f"{module}_status"]
        index = st >> 8
        for bit, what in bits.items():
            if st >> bit & 1:
                parts.append(f"{module} waits on {what} at instruction {index}")
        if st & 1:
            parts.append(f"{module} is executing instruction {index}")
    fetch = regs_values["fetch_status"]
    for bit, q in enumerate(("load", "compute", "store")):
        if fetch >> bit & 1:
            parts.append(f"fetch waits for room in the {q} instruction queue")
    tokens = regs_values["tokens"]
    counts = ", ".join(f"{q}={tokens >> (8 * i) & 0xFF}" for i, q in enumerate(("load->compute", "compute->load",
                                                                               "compute->store", "store->compute")))
    if not parts:
        parts.append("no module is waiting on a token and none is executing (no FINISH reached?)")
    return "; ".join(parts) + f" [tokens {counts}]"


async def run_on_dut(dut, cfg, image, insn_addr, insn_count, *, cycle_limit, latency=DEFAULT_LATENCY,
                     on_launch=None, on_finish=None):
    """Run a program on the ``SimTop(VTA(cfg))`` ``dut`` and return an :class:`RtlResult`.

    Parameters
    ----------
    image : np.ndarray of uint8
        The whole DRAM image of the job (its length is the job's DRAM size).
    insn_addr, insn_count : int
        Where the instruction stream starts (bytes) and how many instructions it has.
    cycle_limit : int
        Cycles after launch before the run counts as hung.
    latency : int
        DRAM read latency in cycles.
    on_launch : callable, optional
        Called right after the launch register write (e.g. to start a counter sampler).
    on_finish : callable, optional
        Called when the run stops, before the registers are read (e.g. to stop a counter sampler).
    """
    clk = start_clock(dut)
    dram = Dram(dut, cfg.BUS_WIDTH)
    await reset(dut)
    # After reset: reset() sets the latency port to 1 when it reads 0, and a value written just before it
    # is not visible yet in the same time step, so a latency set before reset was lost (issue 14).
    dram.set_latency(latency)
    await RisingEdge(clk)
    if int(dut.dram_latency.value) != latency:
        raise RuntimeError(f"DRAM latency port reads {int(dut.dram_latency.value)}, {latency} was set")
    await dram.load(image)
    regs = RegBus(dut)
    for name in BASE_REGS:
        await regs.write(REGS.offset(name), 0)
    await regs.write(REGS.offset("insn_base"), insn_addr)
    await regs.write(REGS.offset("insn_count"), insn_count)
    await regs.write(REGS.offset("control"), 1)
    if on_launch is not None:
        on_launch()
    fired = await wait_until(dut, [dut.finish, dut.error], cycle_limit, clk)
    if on_finish is not None:
        on_finish()

    values = {name: await regs.read(REGS.offset(name)) for name in REG_COUNTERS + STATUS_REGS}
    counters = {name: values[name] for name in REG_COUNTERS}
    counters["dram_read_beats"] = int(dut.dram_rd_beats.value)
    counters["dram_write_beats"] = int(dut.dram_wr_beats.value)
    if fired == "finish":
        status, message = "ok", ""
    elif fired == "error":
        code = values["error_code"]
        status = "error"
        message = f"instruction {values['error_index']}: {_ERRORS.get(code, f'error code {code}')}"
    else:
        status = "timeout"
        message = f"cycle limit {cycle_limit} reached: " + _describe_wait(values)
    if int(dut.dram_oob.value):
        status = "error"
        message = (message + "; " if message else "") + "the engine accessed DRAM beyond the simulated memory"
    out = await dram.dump(len(image))
    return RtlResult(status, values["cycles"], counters, message, out)
