"""ElemReader: streams rows of fixed-size elements out of memory.

The read half of a 2D DMA. Given a byte base, a first element index, a row length, a row count and a
row stride (both in elements), it issues read bursts for each row's words and turns the returned beats
into a stream of elements, one per cycle whenever the bus delivers. Requests run ahead of the data, so
several bursts are in flight; the beats of one row are requested exactly, so an element narrower than
the bus may start anywhere in a word.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .bus import BURST_LEN_BITS, DRAM_ADDR_BITS, MemBusSignature, log2

__all__ = ["ElemReader", "ReadCmdLayout"]


def ReadCmdLayout(count_bits=16):
    return data.StructLayout({
        "base": DRAM_ADDR_BITS,     # byte address of element 0
        "elem": 32,                 # index of the first element of row 0
        "x_size": count_bits,       # elements per row
        "y_size": count_bits,       # rows
        "x_stride": count_bits,     # elements from one row start to the next
    })


class ElemReader(wiring.Component):
    """Reads ``y_size`` rows of ``x_size`` elements of ``elem_bits`` each.

    Parameters
    ----------
    elem_bits : int
        Element width, a power of two of at least 8.
    data_width : int
        Memory bus width.
    count_bits : int
        Width of ``x_size``/``y_size``/``x_stride``.
    max_burst : int
        Longest read burst issued, in words.

    Attributes
    ----------
    cmd : In(stream)
        One command per transfer; accepted only when idle.
    elems : Out(stream)
        The elements, row by row.
    rd_req, rd_resp : the read half of a :class:`MemBusSignature` master.
    busy : Out(1)
        High from command acceptance until the last element has left.
    """

    def __init__(self, *, elem_bits, data_width, count_bits=16, max_burst=32):
        if elem_bits < 8 or elem_bits & (elem_bits - 1):
            raise ValueError(f"elem_bits must be a power of two >= 8, not {elem_bits!r}")
        if not 1 <= max_burst <= 1 << BURST_LEN_BITS:
            raise ValueError(f"max_burst must be 1..{1 << BURST_LEN_BITS}, not {max_burst!r}")
        self.elem_bits = elem_bits
        self.data_width = data_width
        self.count_bits = count_bits
        self.max_burst = max_burst
        bus = MemBusSignature(data_width)
        super().__init__({
            "cmd": In(stream.Signature(ReadCmdLayout(count_bits))),
            "elems": Out(stream.Signature(elem_bits)),
            "rd_req": bus.members["rd_req"],
            "rd_resp": bus.members["rd_resp"],
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        E, B = self.elem_bits, self.data_width
        le, lb = log2(E // 8), log2(B // 8)
        cb = self.count_bits

        cmd = Signal(ReadCmdLayout(cb))
        req_busy = Signal()
        ext_busy = Signal()
        m.d.comb += [self.busy.eq(req_busy | ext_busy), self.cmd.ready.eq(~self.busy)]

        def row_span(row_elem):
            lo = (cmd.base + (row_elem << le))[:DRAM_ADDR_BITS]
            hi = (lo + ((cmd.x_size << le) - 1))[:DRAM_ADDR_BITS]
            return lo, hi

        # --- requester: one row at a time, bursts of at most max_burst words -------------------------
        r_y = Signal(cb)
        r_row = Signal(34)
        r_addr = Signal(self.rd_req.payload.addr.shape())
        r_left = Signal(DRAM_ADDR_BITS)
        r_start = Signal()   # compute the word range of row r_y next cycle
        lo, hi = row_span(r_row)
        burst = Signal(range(self.max_burst + 1))
        m.d.comb += burst.eq(Mux(r_left > self.max_burst, self.max_burst, r_left))
        m.d.comb += [
            self.rd_req.payload.addr.eq(r_addr),
            self.rd_req.payload.len.eq(burst - 1),
        ]
        with m.If(req_busy):
            with m.If(r_start):
                with m.If(r_y == cmd.y_size):
                    m.d.sync += req_busy.eq(0)
                with m.Elif(cmd.x_size == 0):
                    m.d.sync += [r_y.eq(r_y + 1), r_row.eq(r_row + cmd.x_stride)]
                with m.Else():
                    m.d.sync += [
                        r_addr.eq(lo >> lb),
                        r_left.eq((hi >> lb) - (lo >> lb) + 1),
                        r_start.eq(0),
                    ]
            with m.Else():
                m.d.comb += self.rd_req.valid.eq(1)
                with m.If(self.rd_req.ready):
                    m.d.sync += [r_addr.eq(r_addr + burst), r_left.eq(r_left - burst)]
                    with m.If(r_left == burst):
                        m.d.sync += [r_start.eq(1), r_y.eq(r_y + 1), r_row.eq(r_row + cmd.x_stride)]

        # --- extractor: beats -> elements --------------------------------------------------------------
        e_y = Signal(cb)
        e_row = Signal(34)
        e_left = Signal(cb)
        e_start = Signal()
        elo, _ = row_span(e_row)
        e_hs = Signal()
        m.d.comb += e_hs.eq(self.elems.valid & self.elems.ready)

        def next_row():
            return [e_y.eq(e_y + 1), e_row.eq(e_row + cmd.x_stride), e_start.eq(1)]

        if E >= B:
            k = E // B
            j = Signal(range(k)) if k > 1 else None
            sr = Signal((k - 1) * B) if k > 1 else None
            in_last_beat = (j == k - 1) if k > 1 else None
        else:
            nslot = B // E
            slot = Signal(range(nslot))
            have = Signal()
            held = Signal(B)

        with m.If(ext_busy):
            with m.If(e_start):
                with m.If(e_y == cmd.y_size):
                    m.d.sync += ext_busy.eq(0)
                with m.Elif(cmd.x_size == 0):
                    m.d.sync += next_row()
                with m.Else():
                    m.d.sync += [e_left.eq(cmd.x_size), e_start.eq(0)]
                    if E < B:
                        m.d.sync += [slot.eq(elo[le:lb]), have.eq(0)]
                    elif k > 1:
                        m.d.sync += j.eq(0)
            with m.Else():
                if E >= B:
                    with m.If(in_last_beat) if k > 1 else m.If(1):
                        m.d.comb += [
                            self.elems.valid.eq(self.rd_resp.valid),
                            self.elems.payload.eq(Cat(sr, self.rd_resp.payload.data) if k > 1
                                                  else self.rd_resp.payload.data),
                            self.rd_resp.ready.eq(self.elems.ready),
                        ]
                        if k > 1:
                            with m.If(e_hs):
                                m.d.sync += j.eq(0)
                    if k > 1:
                        with m.Else():
                            m.d.comb += self.rd_resp.ready.eq(1)
                            with m.If(self.rd_resp.valid):
                                m.d.sync += [sr.word_select(j, B).eq(self.rd_resp.payload.data), j.eq(j + 1)]
                else:
                    beat = Mux(have, held, self.rd_resp.payload.data)
                    m.d.comb += [
                        self.elems.valid.eq(have | self.rd_resp.valid),
                        self.elems.payload.eq(beat.word_select(slot, E)),
                    ]
                    with m.If(e_hs):
                        m.d.sync += slot.eq(slot + 1)
                        with m.If((slot == nslot - 1) | (e_left == 1)):
                            m.d.sync += have.eq(0)
                            m.d.comb += self.rd_resp.ready.eq(~have)
                        with m.Elif(~have):
                            m.d.comb += self.rd_resp.ready.eq(1)
                            m.d.sync += [held.eq(self.rd_resp.payload.data), have.eq(1)]
                with m.If(e_hs):
                    m.d.sync += e_left.eq(e_left - 1)
                    with m.If(e_left == 1):
                        m.d.sync += next_row()

        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [
                cmd.eq(self.cmd.payload),
                req_busy.eq(1), ext_busy.eq(1),
                r_y.eq(0), r_row.eq(self.cmd.payload.elem), r_start.eq(1),
                e_y.eq(0), e_row.eq(self.cmd.payload.elem), e_start.eq(1),
            ]
        return m
