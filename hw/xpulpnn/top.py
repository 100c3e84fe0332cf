"""XpulpNN: the synthesisable engine top, the core with its RAM (``accelgen verilog xpulpnn`` converts this)."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.xpulpnn.core import Core
from hw.xpulpnn.layouts import ErrorCode
from hw.xpulpnn.tcm import TCM
from sw.xpulpnn.config import XpulpNNConfig

__all__ = ["XpulpNN"]


class XpulpNN(wiring.Component):
    """Core + TCM.

    Parameters
    ----------
    cfg : XpulpNNConfig
    init : sequence of int, optional
        Initial RAM words.

    Attributes
    ----------
    reset_pc, tohost_addr : In(32)
    halted : Out(1)
    error : Out(ErrorCode)
    stop_pc, tohost_value : Out(32)
    cycle, instret : Out(64)
    """

    reset_pc: In(32)
    tohost_addr: In(32)
    halted: Out(1)
    error: Out(ErrorCode)
    stop_pc: Out(32)
    tohost_value: Out(32)
    cycle: Out(64)
    instret: Out(64)

    def __init__(self, cfg: XpulpNNConfig, *, init=()):
        self.cfg = cfg
        self.init = init
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = Core(self.cfg)
        m.submodules.tcm = tcm = TCM(self.cfg, init=self.init)
        wiring.connect(m, core.ibus, tcm.ibus)
        wiring.connect(m, core.dbus, tcm.dbus)
        m.d.comb += [core.reset_pc.eq(self.reset_pc), core.tohost_addr.eq(self.tohost_addr)]
        for name in ("halted", "error", "stop_pc", "tohost_value", "cycle", "instret"):
            m.d.comb += getattr(self, name).eq(getattr(core, name))
        return m
