"""CsrFile: the machine-mode CSRs, the cycle/instret counters and the CSR view of the hardware-loop registers.

The read decoder is built from the CSR table :data:`sw.xpulpnn.regs.CSRS` (the core's "register map", also the
docs table), so the hardware and the docs cannot disagree on which CSR numbers exist.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from sw.xpulpnn.isa import CSR
from sw.xpulpnn.regs import CSRS

__all__ = ["CsrFile"]

_LP = {CSR.LPSTART0: (0, "start"), CSR.LPEND0: (0, "end"), CSR.LPCOUNT0: (0, "count"),
       CSR.LPSTART1: (1, "start"), CSR.LPEND1: (1, "end"), CSR.LPCOUNT1: (1, "count")}


class CsrFile(wiring.Component):
    """CSRs of a machine-mode-only core. Unknown CSRs read as zero and ignore writes; counters ignore writes.

    Parameters
    ----------
    hwloops : bool
        Whether the lpstart/lpend/lpcount CSRs exist (XpulpV2).

    Attributes
    ----------
    addr : In(12)
        CSR number of the X instruction.
    rdata : Out(32)
        Its value (``minstret`` counts the instruction retiring in M this cycle).
    we : In(1)
        Write ``wdata`` (qualified by the X instruction firing).
    trap, trap_cause, trap_pc : In
        Take a trap: mepc, mcause, mstatus.MPIE <- MIE, MIE <- 0.
    mret : In(1)
        mstatus.MIE <- MPIE, MPIE <- 1.
    tick : In(1)
        Count a cycle.
    retire : In(1)
        Count a retired instruction.
    mtvec, mepc : Out(32)
    lp_* : loop-register values in, write requests out (to :class:`HwLoop`).
    cycle, instret : Out(64)
    """

    addr: In(12)
    rdata: Out(32)
    we: In(1)
    wdata: In(32)
    trap: In(1)
    trap_cause: In(32)
    trap_pc: In(32)
    mret: In(1)
    tick: In(1)
    retire: In(1)
    mtvec: Out(32)
    mepc: Out(32)
    cycle: Out(64)
    instret: Out(64)
    lp_start0: In(32)
    lp_end0: In(32)
    lp_count0: In(32)
    lp_start1: In(32)
    lp_end1: In(32)
    lp_count1: In(32)
    lp_w_level: Out(1)
    lp_w_start: Out(1)
    lp_w_end: Out(1)
    lp_w_count: Out(1)

    def __init__(self, *, hwloops=True):
        self.hwloops = hwloops
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        mstatus = Signal(32)
        mscratch = Signal(32)
        mcause = Signal(32)
        mtval = Signal(32)
        instret_now = Signal(64)
        m.d.comb += instret_now.eq(self.instret + self.retire)
        values = {"mstatus": mstatus | CSR.MSTATUS_MPP, "misa": CSR.MISA_VALUE, "mtvec": self.mtvec,
                  "mscratch": mscratch, "mepc": self.mepc, "mcause": mcause, "mtval": mtval,
                  "mcycle": self.cycle[0:32], "cycle": self.cycle[0:32],
                  "mcycleh": self.cycle[32:64], "cycleh": self.cycle[32:64],
                  "minstret": instret_now[0:32], "instret": instret_now[0:32],
                  "minstreth": instret_now[32:64], "instreth": instret_now[32:64],
                  "lpstart0": self.lp_start0, "lpend0": self.lp_end0, "lpcount0": self.lp_count0,
                  "lpstart1": self.lp_start1, "lpend1": self.lp_end1, "lpcount1": self.lp_count1}
        missing = {c.name for c in CSRS} ^ set(values)
        if missing:
            raise AssertionError(f"CSR table and CsrFile disagree on {sorted(missing)}")
        with m.Switch(self.addr):
            for c in CSRS:
                if self.hwloops or not c.xpulpv2:
                    with m.Case(c.number):
                        m.d.comb += self.rdata.eq(values[c.name])

        with m.If(self.tick):
            m.d.sync += self.cycle.eq(self.cycle + 1)
        with m.If(self.retire):
            m.d.sync += self.instret.eq(self.instret + 1)

        with m.If(self.we):
            with m.Switch(self.addr):
                with m.Case(CSR.MSTATUS):
                    m.d.sync += mstatus.eq(self.wdata & CSR.MSTATUS_MASK)
                with m.Case(CSR.MTVEC):
                    m.d.sync += self.mtvec.eq(self.wdata)
                with m.Case(CSR.MSCRATCH):
                    m.d.sync += mscratch.eq(self.wdata)
                with m.Case(CSR.MEPC):
                    m.d.sync += self.mepc.eq(self.wdata & ~3)
                with m.Case(CSR.MCAUSE):
                    m.d.sync += mcause.eq(self.wdata)
                with m.Case(CSR.MTVAL):
                    m.d.sync += mtval.eq(self.wdata)
                if self.hwloops:
                    for n, (level, which) in _LP.items():
                        with m.Case(n):
                            m.d.comb += [self.lp_w_level.eq(level), getattr(self, f"lp_w_{which}").eq(1)]
        with m.If(self.trap):
            m.d.sync += [self.mepc.eq(self.trap_pc), mcause.eq(self.trap_cause),
                         mstatus[7].eq(mstatus[3]), mstatus[3].eq(0)]
        with m.Elif(self.mret):
            m.d.sync += [mstatus[3].eq(mstatus[7]), mstatus[7].eq(1)]
        return m
