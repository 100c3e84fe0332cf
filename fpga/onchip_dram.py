"""OnChipDram: block RAM standing in for DRAM on a board, serving an engine's memory bus and the host.

The engine's :class:`~hw.common.bus.MemBusSignature` master gets one read burst at a time (one beat per
cycle, back-pressured by ``rd_resp.ready``) and single-cycle byte-strobed writes. The host side is a
32-bit word port (:data:`WordPortSignature`) used by the UART bridge to load jobs and read results; it
waits while the engine's reads or writes use the RAM, so the engine never stalls for the host.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, log2

__all__ = ["OnChipDram", "WordPortSignature"]

#: Host word port, as seen from the host: ``addr`` is a byte address (the low two bits are ignored);
#: hold ``r_en`` or ``w_en`` until ``ack`` pulses; ``r_data`` is valid with ``ack``.
WordPortSignature = wiring.Signature({
    "addr": Out(32), "w_data": Out(32), "w_en": Out(1), "r_en": Out(1),
    "r_data": In(32), "ack": In(1),
})


class OnChipDram(wiring.Component):
    """Block-RAM DRAM of ``depth`` words of ``data_width`` bits.

    Parameters
    ----------
    data_width : int
        Bus width in bits (32..1024, a power of two).
    depth : int
        Words (a power of two).

    Attributes
    ----------
    bus : In(MemBusSignature(data_width))
        The engine's memory master connects here.
    host : In(WordPortSignature)
        32-bit host access.
    oob : Out(1)
        Sticky: the engine or the host addressed a word beyond ``depth`` (the address wrapped).
    size_bytes : int
        ``depth * data_width // 8``.
    """

    def __init__(self, data_width: int, depth: int):
        if depth < 2 or depth & (depth - 1):
            raise ValueError(f"depth must be a power of two >= 2, not {depth!r}")
        self.bus_signature = MemBusSignature(data_width)
        self.data_width = data_width
        self.depth = depth
        self.size_bytes = depth * data_width // 8
        super().__init__({"bus": In(self.bus_signature), "host": In(WordPortSignature), "oob": Out(1)})

    def elaborate(self, platform):
        m = Module()
        w, depth = self.data_width, self.depth
        lanes = w // 32
        abits = log2(depth)
        m.submodules.mem = mem = Memory(shape=w, depth=depth, init=[])
        rp = mem.read_port()
        wp = mem.write_port(granularity=8)
        bus, host = self.bus, self.host

        # Host addresses: byte -> (line, 32-bit lane).
        h_word = host.addr[2:]
        h_lane = h_word[:log2(lanes)] if lanes > 1 else Const(0, 1)
        h_line = h_word[log2(lanes):] if lanes > 1 else h_word
        ack = Signal()
        m.d.sync += ack.eq(0)
        m.d.comb += host.ack.eq(ack)

        # Engine reads: one burst at a time.
        active = Signal()
        cur = Signal(self.bus_signature.addr_width)
        left = Signal(8)
        resp_valid = Signal()
        resp_last = Signal()
        advance = ~resp_valid | bus.rd_resp.ready
        m.d.comb += [
            bus.rd_req.ready.eq(~active),
            bus.rd_resp.valid.eq(resp_valid),
            bus.rd_resp.payload.data.eq(rp.data),
            bus.rd_resp.payload.last.eq(resp_last),
            rp.en.eq(advance),
            rp.addr.eq(Mux(active, cur[:abits], h_line[:abits])),
        ]
        with m.If(bus.rd_req.valid & bus.rd_req.ready):
            m.d.sync += [active.eq(1), cur.eq(bus.rd_req.payload.addr), left.eq(bus.rd_req.payload.len)]
            with m.If(bus.rd_req.payload.addr[abits:] != 0):
                m.d.sync += self.oob.eq(1)
        with m.If(advance):
            m.d.sync += [resp_valid.eq(active), resp_last.eq(left == 0)]
            with m.If(active):
                m.d.sync += [cur.eq(cur + 1), left.eq(left - 1)]
                with m.If(left == 0):
                    m.d.sync += active.eq(0)

        # Host reads use the read port while the engine has no burst in progress or pending.
        rd_wait = Signal()
        lane_q = Signal.like(h_lane)
        m.d.sync += rd_wait.eq(0)
        engine_reading = active | resp_valid | bus.rd_req.valid
        with m.If(host.r_en & ~rd_wait & ~ack & ~engine_reading):
            m.d.sync += [rd_wait.eq(1), lane_q.eq(h_lane)]
        with m.If(rd_wait):
            m.d.sync += [ack.eq(1), host.r_data.eq(rp.data.word_select(lane_q, 32) if lanes > 1 else rp.data)]

        # Writes: the engine has priority; the host writes in a cycle without an engine write.
        m.d.comb += bus.wr.ready.eq(1)
        with m.If(bus.wr.valid):
            m.d.comb += [wp.addr.eq(bus.wr.payload.addr[:abits]), wp.data.eq(bus.wr.payload.data),
                         wp.en.eq(bus.wr.payload.strb)]
            with m.If(bus.wr.payload.addr[abits:] != 0):
                m.d.sync += self.oob.eq(1)
        with m.Elif(host.w_en & ~ack):
            m.d.comb += [wp.addr.eq(h_line[:abits]), wp.data.eq(host.w_data.replicate(lanes)),
                         wp.en.eq(Const(0xF, w // 8) << (h_lane * 4))]
            m.d.sync += ack.eq(1)
        with m.If((host.r_en | host.w_en) & (h_line[abits:] != 0)):
            m.d.sync += self.oob.eq(1)
        return m
