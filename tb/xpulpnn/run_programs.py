"""cocotb module: run a list of programs on one Verilator build of :class:`tb.xpulpnn.simtop.XpulpNNSim`.

The host (:mod:`tb.xpulpnn.harness`) writes a manifest (``XPULPNN_MANIFEST``: programs with their hex image,
entry, tohost address and cycle limit); this test loads each image with one ``$readmemh``, resets the core,
sleeps in the simulator until ``halted`` or the cycle limit (one Python wake-up per program), and appends the
outcome to ``XPULPNN_RESULTS`` (JSON lines). Comparing against the ISS happens on the host. The run options
(:class:`sw.common.contract.RunOptions`) give the cycle limit of a program whose manifest entry has none.
"""

import json
import os
import shutil
from pathlib import Path

import cocotb
from cocotb.triggers import ClockCycles, RisingEdge

from sim.cocotb_util import ENV_DRAM_IN, ENV_DRAM_OUT, start_clock, wait_until
from sw.common.contract import RunOptions

ENV_MANIFEST = "XPULPNN_MANIFEST"
ENV_RESULTS = "XPULPNN_RESULTS"


async def _pulse(dut, sig, clk):
    sig.value = 1
    await RisingEdge(clk)
    sig.value = 0
    await RisingEdge(clk)


@cocotb.test()
async def run_programs(dut):
    manifest = json.loads(Path(os.environ[ENV_MANIFEST]).read_text())
    options = RunOptions.from_env()
    results = Path(os.environ[ENV_RESULTS])
    ram_in = Path(os.environ[ENV_DRAM_IN])
    ram_out = Path(os.environ[ENV_DRAM_OUT])
    clk = start_clock(dut)
    for sig in (dut.ram_clear, dut.ram_load, dut.ram_dump, dut.trace_mark, dut.trace_flush):
        sig.value = 0
    dut.trace_en.value = int(bool(manifest.get("trace")))
    with open(results, "w") as out:
        for prog in manifest["programs"]:
            dut.rst.value = 1
            await RisingEdge(clk)
            await _pulse(dut, dut.ram_clear, clk)
            shutil.copyfile(prog["hex"], ram_in)
            await _pulse(dut, dut.ram_load, clk)
            dut.reset_pc.value = prog["entry"]
            dut.tohost_addr.value = prog["tohost"]
            await _pulse(dut, dut.trace_mark, clk)
            dut.rst.value = 0
            await RisingEdge(clk)
            fired = await wait_until(dut, [dut.halted], prog.get("max_cycles", options.cycle_limit or 1_000_000), clk)
            await ClockCycles(clk, 3)          # let the last instruction write back (trace, instret)
            await _pulse(dut, dut.trace_flush, clk)
            rec = {"name": prog["name"], "halted": fired is not None, "error": int(dut.error.value),
                   "tohost": int(dut.tohost_value.value), "cycles": int(dut.cycle.value),
                   "instret": int(dut.instret.value), "pc": int(dut.stop_pc.value)}
            if prog.get("dump_words"):
                dut.ram_dump_words.value = prog["dump_words"]
                if ram_out.exists():
                    ram_out.unlink()
                await _pulse(dut, dut.ram_dump, clk)
                shutil.copyfile(ram_out, prog["dump"])
            out.write(json.dumps(rec) + "\n")
            out.flush()
