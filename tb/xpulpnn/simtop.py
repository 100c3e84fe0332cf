"""XpulpNNSim: the core with the Verilog RAM and commit tracer of ``tb/xpulpnn/xpulpnn_sim.v`` (Verilator top)."""

from pathlib import Path

from amaranth.hdl import ClockSignal, Instance, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.xpulpnn.core import Core
from sw.xpulpnn.config import XpulpNNConfig

__all__ = ["XpulpNNSim", "SIM_MODELS"]

#: Verilog models instantiated by :class:`XpulpNNSim`.
SIM_MODELS = Path(__file__).resolve().parent / "xpulpnn_sim.v"


class XpulpNNSim(wiring.Component):
    """Simulation top: :class:`hw.xpulpnn.core.Core` + bulk-loadable RAM + commit tracer.

    Attributes
    ----------
    reset_pc, tohost_addr : In(32)
        Set before releasing reset.
    halted, error, stop_pc, tohost_value, cycle, instret : Out
        The core's status.
    ram_clear, ram_load, ram_dump : In(1)
        Bulk RAM control (see the Verilog model).
    ram_dump_words : In(32)
    trace_en, trace_mark, trace_flush : In(1)
        Commit trace control.
    """

    reset_pc: In(32)
    tohost_addr: In(32)
    halted: Out(1)
    error: Out(3)
    stop_pc: Out(32)
    tohost_value: Out(32)
    cycle: Out(64)
    instret: Out(64)
    ram_clear: In(1)
    ram_load: In(1)
    ram_dump: In(1)
    ram_dump_words: In(32)
    trace_en: In(1)
    trace_mark: In(1)
    trace_flush: In(1)

    def __init__(self, cfg: XpulpNNConfig):
        self.cfg = cfg
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = Core(self.cfg)
        n = self.cfg.ram_words_log2
        m.d.comb += [core.reset_pc.eq(self.reset_pc), core.tohost_addr.eq(self.tohost_addr),
                     self.halted.eq(core.halted), self.error.eq(core.error), self.stop_pc.eq(core.stop_pc),
                     self.tohost_value.eq(core.tohost_value), self.cycle.eq(core.cycle),
                     self.instret.eq(core.instret)]
        m.submodules.ram = Instance(
            "xpulpnn_ram", p_WORDS_LOG2=n,
            i_clk=ClockSignal(),
            i_i_addr=core.ibus.addr[2:2 + n], i_i_en=core.ibus.en, o_i_rdata=core.ibus.rdata,
            i_d_addr=core.dbus.addr[2:2 + n], i_d_en=core.dbus.en, i_d_we=core.dbus.we,
            i_d_wdata=core.dbus.wdata, o_d_rdata=core.dbus.rdata,
            i_clear=self.ram_clear, i_load=self.ram_load, i_dump=self.ram_dump, i_dump_words=self.ram_dump_words,
        )
        c = core.commit
        m.submodules.tracer = Instance(
            "xpulpnn_tracer",
            i_clk=ClockSignal(), i_en=self.trace_en, i_mark=self.trace_mark, i_flush=self.trace_flush,
            i_valid=c.valid, i_pc=c.pc, i_insn=c.insn, i_rd_we=c.rd_we, i_rd=c.rd, i_rd_value=c.rd_value,
            i_pi_we=c.pi_we, i_pi_reg=c.pi_reg, i_pi_value=c.pi_value, i_nn_we=c.nn_we, i_nn_idx=c.nn_idx,
            i_nn_value=c.nn_value, i_st=c.st, i_st_addr=c.st_addr, i_st_size=c.st_size, i_st_data=c.st_data,
        )
        return m
