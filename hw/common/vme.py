"""VME: shares one memory master among several read clients and one writer.

Read requests are granted round-robin and their client is remembered in order; responses (returned in
request order by the memory) are steered to the client at the head of that order. Up to
``max_in_flight`` bursts are outstanding at once, so a client streaming a long row keeps the memory busy
while its earlier bursts return.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from .bus import MemBusSignature, ReadPortSignature

__all__ = ["VME"]


class VME(wiring.Component):
    """Memory arbiter.

    Parameters
    ----------
    data_width : int
    n_readers : int
    max_in_flight : int
        Read bursts outstanding at once.

    Attributes
    ----------
    readers : array of In(ReadPortSignature); readers[i] is client i.
    writer : In(stream) the write channel of the single writing client.
    mem : Out(MemBusSignature)
    """

    def __init__(self, *, data_width, n_readers, max_in_flight=8):
        self.n_readers = n_readers
        self.max_in_flight = max_in_flight
        bus = MemBusSignature(data_width)
        super().__init__({
            "readers": In(ReadPortSignature(data_width)).array(n_readers),
            "writer": In(bus.members["wr"].signature),
            "mem": Out(bus),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.n_readers
        m.d.comb += [self.mem.wr.payload.eq(self.writer.payload), self.mem.wr.valid.eq(self.writer.valid),
                     self.writer.ready.eq(self.mem.wr.ready)]

        m.submodules.order = order = fifo.SyncFIFOBuffered(width=max(1, (n - 1).bit_length()),
                                                          depth=self.max_in_flight)
        last = Signal(range(n))
        grant = Signal(range(n))
        any_req = Signal()
        # Round-robin: the first requesting client after the last one granted.
        with m.Switch(last):
            for l in range(n):
                with m.Case(l):
                    for i in reversed(range(n)):
                        c = (l + 1 + i) % n
                        with m.If(self.readers[c].rd_req.valid):
                            m.d.comb += [grant.eq(c), any_req.eq(1)]
        req_ok = any_req & order.w_rdy
        for c in range(n):
            with m.If(grant == c):
                m.d.comb += [self.mem.rd_req.payload.eq(self.readers[c].rd_req.payload),
                             self.readers[c].rd_req.ready.eq(req_ok & self.mem.rd_req.ready)]
        m.d.comb += [
            self.mem.rd_req.valid.eq(req_ok),
            order.w_data.eq(grant),
            order.w_en.eq(req_ok & self.mem.rd_req.ready),
        ]
        with m.If(order.w_en):
            m.d.sync += last.eq(grant)

        head = order.r_data
        for c in range(n):
            m.d.comb += self.readers[c].rd_resp.payload.eq(self.mem.rd_resp.payload)
            with m.If(order.r_rdy & (head == c)):
                m.d.comb += [self.readers[c].rd_resp.valid.eq(self.mem.rd_resp.valid),
                             self.mem.rd_resp.ready.eq(self.readers[c].rd_resp.ready)]
        m.d.comb += order.r_en.eq(self.mem.rd_resp.valid & self.mem.rd_resp.ready
                                  & self.mem.rd_resp.payload.last)
        return m
