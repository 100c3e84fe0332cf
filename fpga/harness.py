"""Out-of-context harness: place and route any engine on a device without a pin per port.

An engine's top has hundreds of port bits (a 64-bit memory bus alone needs ~230), more than a package has
pins, and an unconnected port lets synthesis delete the logic behind it. :class:`PortHarness` keeps every
port alive with five pins: all engine inputs come from a shift register fed by ``sin``; all engine outputs
are captured into a register that ``load`` copies in parallel and that otherwise shifts out through
``sout``. Every engine port is therefore registered on both sides, so the Fmax nextpnr reports is that of
the engine's internal paths (and of the combinational input-to-output paths such as a register read).

The harness costs one flip-flop per input bit, and one flip-flop plus one LUT per output bit; reports
list these figures (``harness``) so they can be subtracted.
"""

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PortHarness", "port_bits"]


def port_bits(component: wiring.Component) -> tuple[list, list]:
    """``(inputs, outputs)`` of ``component``: lists of ``(name, Value)`` from its flattened signature."""
    ins, outs = [], []
    for path, member, value in component.signature.flatten(component):
        name = "__".join(str(p) for p in path)
        (ins if member.flow == In else outs).append((name, Value.cast(value)))
    return ins, outs


class PortHarness(wiring.Component):
    """An engine wrapped so that its ports cost five pins.

    Parameters
    ----------
    engine : wiring.Component
        The design (instantiated as submodule ``engine``); every member of its signature is connected.

    Attributes
    ----------
    sin : In(1)
        Serial input: shifted into the input register every cycle.
    load : In(1)
        When 1, the output register captures every engine output; when 0 it shifts towards ``sout``.
    sout : Out(1)
        Serial output.
    in_bits, out_bits : int
        Engine input and output bits (the harness's size).

    Raises
    ------
    TypeError
        If ``engine`` is not a ``wiring.Component``.
    ValueError
        If the engine has no output (nothing would survive synthesis).
    """

    def __init__(self, engine):
        if not isinstance(engine, wiring.Component):
            raise TypeError(f"engine must be a wiring.Component, not {engine!r}")
        self.engine = engine
        self._ins, self._outs = port_bits(engine)
        if not self._outs:
            raise ValueError(f"{type(engine).__name__} has no output port: synthesis would remove all of it")
        self.in_bits = sum(len(v) for _, v in self._ins)
        self.out_bits = sum(len(v) for _, v in self._outs)
        super().__init__({"sin": In(1), "load": In(1), "sout": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = self.engine

        if self.in_bits:
            shift_in = Signal(self.in_bits)
            m.d.sync += shift_in.eq(Cat(self.sin, shift_in[:-1]))
            offset = 0
            for _, value in self._ins:
                m.d.comb += value.eq(shift_in[offset:offset + len(value)])
                offset += len(value)

        shift_out = Signal(self.out_bits)
        with m.If(self.load):
            m.d.sync += shift_out.eq(Cat(*[v for _, v in self._outs]))
        with m.Else():
            m.d.sync += shift_out.eq(shift_out >> 1)
        m.d.comb += self.sout.eq(shift_out[0])
        return m
