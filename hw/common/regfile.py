"""RegisterFile: the host register block of any engine, generated from its register table.

The table (:class:`sw.common.regs.RegisterMap`, declared once per engine in ``sw/<engine>/regs.py``) fixes
the offsets, kinds and widths; this component is the only register decoder in the project, so the hardware,
the testbench accessors and the docs cannot disagree.
"""

from amaranth.hdl import Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import RegBusSignature

__all__ = ["RegisterFile"]


class RegisterFile(wiring.Component):
    """Host registers of one engine.

    Parameters
    ----------
    regs : sw.common.regs.RegisterMap
        The engine's register table.
    addr_width : int
        Width of the host address (byte offsets); at least ``regs.addr_bits``.

    Attributes
    ----------
    host : In(RegBusSignature(addr_width))
        Writes take effect at the clock edge where ``w_stb`` is high; reads are combinational.
    launch : Out(1)
        One-cycle pulse when the host writes 1 to bit 0 of the ctrl register.
    running : Out(1)
        High from launch until ``finish`` or ``error``.
    finish, error : In(1)
        From the engine: the job ended (``error``: it ended with an error).
    <rw name> : Out(width)
        Value of each host-writable register.
    <status name> : In(width)
        Each status word, from the engine.
    count_<counter or peak name> : In(inc_width)
        Amount to add (counter) or candidate maximum (peak) in each running cycle; absent for
        ``inc_width=0`` counters, which count running cycles.
    """

    def __init__(self, regs, *, addr_width=None):
        self._regs = regs
        addr_width = regs.addr_bits if addr_width is None else addr_width
        if addr_width < regs.addr_bits:
            raise ValueError(f"addr_width must be >= {regs.addr_bits} for the {regs.engine} map, not {addr_width}")
        members = {"host": In(RegBusSignature(addr_width)), "launch": Out(1), "running": Out(1),
                   "finish": In(1), "error": In(1)}
        for r in regs:
            if r.kind == "rw":
                members[r.name] = Out(r.width)
            elif r.kind == "status":
                members[r.name] = In(r.width)
            elif r.kind in ("counter", "peak") and r.inc_width:
                members[f"count_{r.name}"] = In(r.inc_width)
        super().__init__(members)

    @property
    def regs(self):
        return self._regs

    def elaborate(self, platform):
        m = Module()
        host = self.host
        running, done, failed = Signal(), Signal(), Signal()
        m.d.comb += self.running.eq(running)
        with m.If(running & self.finish):
            m.d.sync += [running.eq(0), done.eq(1)]
        with m.If(running & self.error):
            m.d.sync += [running.eq(0), failed.eq(1)]

        stored = {r.name: Signal(r.width, name=f"{r.name}_reg") for r in self._regs
                  if r.kind in ("counter", "peak")}
        with m.If(running):
            for r in self._regs.of_kind("counter"):
                inc = getattr(self, f"count_{r.name}") if r.inc_width else Const(1, 1)
                m.d.sync += stored[r.name].eq(stored[r.name] + inc)
            for r in self._regs.of_kind("peak"):
                cand = getattr(self, f"count_{r.name}")
                with m.If(cand > stored[r.name]):
                    m.d.sync += stored[r.name].eq(cand)

        ctrl = self._regs.ctrl
        with m.If(host.w_stb):
            with m.Switch(host.addr):
                with m.Case(ctrl.offset):
                    with m.If(host.w_data[0]):
                        m.d.comb += self.launch.eq(1)
                        m.d.sync += [running.eq(1), done.eq(0), failed.eq(0)]
                        m.d.sync += [stored[r.name].eq(0) for r in self._regs.of_kind("counter", "peak")
                                     if r.clear_on_start]
                for r in self._regs.of_kind("rw"):
                    with m.Case(r.offset):
                        m.d.sync += getattr(self, r.name).eq(host.w_data)

        with m.Switch(host.addr):
            with m.Case(ctrl.offset):
                m.d.comb += host.r_data.eq(running | (done << 1) | (failed << 2))
            for r in self._regs:
                if r.kind == "ctrl":
                    continue
                value = getattr(self, r.name) if r.kind in ("rw", "status") else stored[r.name]
                with m.Case(r.offset):
                    m.d.comb += host.r_data.eq(value[:32])
                if r.words == 2:
                    with m.Case(r.offset + 4):
                        m.d.comb += host.r_data.eq(value[32:])
        return m
