"""TCM: the tightly coupled RAM of the core (one instruction read port, one data read/write port)."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from hw.xpulpnn.core import DataBusSignature, InsnBusSignature
from sw.xpulpnn.config import XpulpNNConfig

__all__ = ["TCM"]


class TCM(wiring.Component):
    """Synchronous single-cycle RAM of ``cfg.ram_kib`` KiB (word-addressed by address bits [n+1:2]).

    Parameters
    ----------
    cfg : XpulpNNConfig
    init : sequence of int, optional
        Initial words (e.g. a boot program for an FPGA image).

    Attributes
    ----------
    ibus : In(InsnBusSignature)
    dbus : In(DataBusSignature)
    """

    ibus: In(InsnBusSignature)
    dbus: In(DataBusSignature)

    def __init__(self, cfg: XpulpNNConfig, *, init=()):
        self.cfg = cfg
        self.init = list(init)
        if len(self.init) > cfg.ram_bytes // 4:
            raise ValueError(f"init has {len(self.init)} words; the RAM holds {cfg.ram_bytes // 4} "
                             f"(config key ram_kib = {cfg.ram_kib})")
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        n = self.cfg.ram_words_log2
        m.submodules.mem = mem = Memory(shape=32, depth=1 << n, init=self.init)
        ip = mem.read_port()
        dp = mem.read_port()
        wp = mem.write_port(granularity=8)
        m.d.comb += [
            ip.addr.eq(self.ibus.addr[2:2 + n]), ip.en.eq(self.ibus.en), self.ibus.rdata.eq(ip.data),
            dp.addr.eq(self.dbus.addr[2:2 + n]), dp.en.eq(self.dbus.en), self.dbus.rdata.eq(dp.data),
            wp.addr.eq(self.dbus.addr[2:2 + n]), wp.en.eq(self.dbus.we), wp.data.eq(self.dbus.wdata),
        ]
        return m
