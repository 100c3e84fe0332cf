"""The CAP host register map: one table for the hardware (:class:`hw.common.regfile.RegisterFile`), the
testbench (registers by name), the manifest's memory map and the docs table (docs/cap.md).

CTRL bit 0 starts a run (``launch``; bit 1 asks for a clear array in the start cycle), bit 2 starts a DMA
transfer; reading CTRL gives running / done / error of the last run. A command while the CAP is busy is
refused (code BUSY in ``error_code``) and does not reach the register block, so it neither restarts nor clears the
counters. The counters count the cycles of the last run in which a micro-op executed and its compare, write
and read micro-ops; DMA transfers are outside the run and outside the counters.
"""

from sw.common.regs import Reg, RegisterMap

__all__ = ["REGS", "CTRL_RUN_BIT", "CTRL_CLEAR_BIT", "CTRL_DMA_BIT", "STATUS_RUN_BUSY", "STATUS_DMA_BUSY",
           "STATUS_ERROR"]

#: CTRL bit numbers when written.
CTRL_RUN_BIT, CTRL_CLEAR_BIT, CTRL_DMA_BIT = 0, 1, 2
#: STATUS bits.
STATUS_RUN_BUSY, STATUS_DMA_BUSY, STATUS_ERROR = 1, 2, 4

REGS = RegisterMap("cap", [
    Reg("ctrl", 0x00, "ctrl", doc="write: bit 0 run the program, bit 1 clear the array in the start cycle, "
                                  "bit 2 start the DMA; read: bit 0 running, bit 1 done, bit 2 error (last run)"),
    Reg("prog_len", 0x04, "rw", doc="micro-ops to run"),
    Reg("dma_addr", 0x08, "rw", doc="DRAM word address (64-bit words)"),
    Reg("dma_count", 0x0C, "rw", doc="words to move"),
    Reg("dma_cfg", 0x10, "rw", doc="bits [1:0] target (0 program, 1 column buffer, 2 row buffer), "
                                   "bit 4 store (to DRAM)"),
    Reg("dma_entry", 0x14, "rw", doc="first entry of the target memory"),
    Reg("status", 0x20, "status", doc="bit 0 run busy, bit 1 DMA busy, bit 2 error"),
    Reg("cycles", 0x24, "counter", doc="cycles of the last run in which a micro-op executed"),
    Reg("compares", 0x28, "counter", doc="compare micro-ops (CMP, VCMP, SVCMP) of the last run"),
    Reg("writes", 0x2C, "counter", doc="write micro-ops (WR, VWR, SVWR, LDCOL, SETCOL, LDROW) of the last run"),
    Reg("reads", 0x30, "counter", doc="read micro-ops (RDCOL, RDROW) of the last run"),
    Reg("error_code", 0x34, "status", doc="bits [3:0] code (0 none, 1 OPCODE, 2 INDEX, 3 PROG_LEN, 4 DMA_RANGE, "
                                     "5 BUSY) of the last command, bits [31:8] micro-op pc"),
    Reg("dma_words", 0x38, "status", doc="words moved by the current/last DMA transfer"),
])
