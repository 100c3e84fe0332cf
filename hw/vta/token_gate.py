"""The dependency-token rule shared by the load, compute and store modules (spec section 3).

An instruction starts only when every queue it pops holds a token and every queue it pushes has room;
it pops when it starts and pushes when it completes. Only the module itself pushes into its outgoing
queues, so room checked at the start is still there at the end.
"""

from amaranth.hdl import Cat, Signal
from amaranth.lib import data

__all__ = ["StatusLayout", "TokenGate"]

#: What a module reports about itself (read by the host for hang diagnostics).
StatusLayout = data.StructLayout({
    "executing": 1,
    "wait_pop_prev": 1, "wait_pop_next": 1,
    "wait_push_prev": 1, "wait_push_next": 1,
    "has_insn": 1, "halted": 1, "_pad": 1,
    "index": 24,
})


class TokenGate:
    """Builds the start condition and token pulses of one module.

    Parameters
    ----------
    m : Module
    flags : View of the instruction header (pop_prev, pop_next, push_prev, push_next).
    queues : dict
        ``{"prev": (ready, room), "next": (ready, room)}`` of the queues this module uses; a module
        that has no neighbour on one side omits it and ignores those flags.
    """

    def __init__(self, m, flags, queues, valid):
        self.flags = flags
        self.queues = queues
        waits = {}
        for side, (ready, room) in queues.items():
            waits[f"wait_pop_{side}"] = valid & getattr(flags, f"pop_{side}") & ~ready
            waits[f"wait_push_{side}"] = valid & getattr(flags, f"push_{side}") & ~room
        self.waits = waits
        self.ok = Signal(name="tokens_ok")
        m.d.comb += self.ok.eq(valid & ~Cat(*waits.values()).any())

    def pops(self, start):
        """(side, pulse) pairs: pop each queue the starting instruction pops."""
        return {side: start & getattr(self.flags, f"pop_{side}") for side in self.queues}

    def pushes(self, done, latched):
        """(side, pulse) pairs: push each queue when the latched instruction completes."""
        return {side: done & getattr(latched, f"push_{side}") for side in self.queues}

    def status(self, m, status, *, executing, index, halted=0):
        m.d.comb += [status.executing.eq(executing), status.index.eq(index), status.halted.eq(halted)]
        for name, w in self.waits.items():
            m.d.comb += getattr(status, name).eq(w)
