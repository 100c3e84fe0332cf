"""DepQueue: a dependency-token queue between two VTA modules (a saturating-free token counter)."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["DepQueue"]


class DepQueue(wiring.Component):
    """Holds up to ``depth`` tokens. Tokens carry no data, so the queue is a counter.

    The producer checks ``room`` before starting an instruction that will push (only it pushes, so room
    cannot shrink meanwhile); the consumer checks ``ready`` before popping.

    Attributes
    ----------
    push, pop : In(1)
    ready : Out(1)   at least one token.
    room : Out(1)    fewer than ``depth`` tokens.
    count : Out
    """

    def __init__(self, depth):
        self.depth = depth
        super().__init__({"push": In(1), "pop": In(1), "ready": Out(1), "room": Out(1),
                          "count": Out(range(depth + 1))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.ready.eq(self.count != 0), self.room.eq(self.count != self.depth)]
        with m.If(self.push & ~self.pop):
            m.d.sync += self.count.eq(self.count + 1)
        with m.Elif(self.pop & ~self.push):
            m.d.sync += self.count.eq(self.count - 1)
        return m
