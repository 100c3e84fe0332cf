"""The VTA host registers (VCR): upstream VTA's offsets 0x00-0x24 plus accelgen's counters and diagnostics.

One table behind the hardware register block (:class:`hw.common.regfile.RegisterFile` in ``hw.vta.core``),
the testbench accessors (``tb.vta.sim_job`` reads and writes registers by name), the counters of every
result (:data:`COUNTERS`), the manifest's memory map and the table in docs/vta.md.
"""

from __future__ import annotations

from ..common.regs import Reg, RegisterMap

__all__ = ["REGS", "COUNTERS", "STATUS_REGS", "BASE_REGS", "ADDR_WIDTH"]

#: Width of the host address bus (byte offsets; the VTA top's ``host`` port).
ADDR_WIDTH = 8

REGS = RegisterMap("vta", [
    Reg("control", 0x00, "ctrl", doc="write bit 0 = 1: launch; read: bit 0 running, bit 1 finished, "
                                     "bit 2 stopped on error"),
    Reg("cycles", 0x04, "counter", inc_width=0, doc="cycles from launch to FINISH (or error)"),
    Reg("insn_count", 0x08, "rw", doc="instructions in the stream"),
    Reg("insn_base", 0x0C, "rw", doc="byte address of the first instruction"),
    Reg("uop_base", 0x10, "rw", doc="byte offset added to `dram_base * element bytes` of LOAD UOP (jobs use 0)"),
    Reg("inp_base", 0x14, "rw", doc="same for LOAD INP"),
    Reg("wgt_base", 0x18, "rw", doc="same for LOAD WGT"),
    Reg("acc_base", 0x1C, "rw", doc="same for LOAD ACC / ACC_8BIT"),
    Reg("out_base", 0x20, "rw", doc="same for STORE"),
    Reg("acc_writes", 0x24, "counter", doc="accumulator writes by GEMM and ALU"),
    Reg("load_busy", 0x28, "counter", doc="extension: cycles the load module executes"),
    Reg("gemm_busy", 0x2C, "counter", doc="extension: cycles compute executes GEMM"),
    Reg("alu_busy", 0x30, "counter", doc="extension: cycles compute executes ALU"),
    Reg("store_busy", 0x34, "counter", doc="extension: cycles the store module executes"),
    Reg("compute_load_busy", 0x38, "counter", doc="extension: cycles compute executes LOAD UOP/ACC"),
    Reg("error_code", 0x3C, "status", doc="1 opcode, 2 memory type, 3 ALU opcode, 4 index out of range, "
                                          "5 STORE pad"),
    Reg("error_index", 0x40, "status", doc="instruction index of the error"),
    Reg("fetch_status", 0x44, "status", doc="bits 2:0 waiting for room in the load/compute/store queue; "
                                            "bit 3 busy"),
    Reg("load_status", 0x48, "status", doc="bit 0 executing, bit 1 waits pop_prev, bit 2 pop_next, bit 3 "
                                           "push_prev room, bit 4 push_next room, bit 5 has instruction, "
                                           "bit 6 halted; bits 31:8 instruction index"),
    Reg("compute_status", 0x4C, "status", doc="as load_status"),
    Reg("store_status", 0x50, "status", doc="as load_status"),
    Reg("tokens", 0x54, "status", doc="token counts l2c, c2l, c2s, s2c, one byte each (saturated at 255)"),
    Reg("gemm_uops", 0x58, "counter", doc="GEMM micro-op iterations executed"),
    Reg("alu_uops", 0x5C, "counter", doc="ALU micro-op iterations executed"),
])

#: Counter names of every RTL result's ``counters`` (hardware registers, in table order).
COUNTERS = tuple(REGS.counters())
#: Status words read after a run (error report, what waits on what at a timeout).
STATUS_REGS = tuple(r.name for r in REGS.of_kind("status"))
#: Base-address registers (all 0 for jobs: absolute addressing).
BASE_REGS = ("uop_base", "inp_base", "wgt_base", "acc_base", "out_base")
