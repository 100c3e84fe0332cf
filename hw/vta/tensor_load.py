"""TensorLoad: executes a LOAD into one scratchpad (2D strided read with zero / minimum-value padding)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import DRAM_ADDR_BITS
from hw.common.elem_reader import ElemReader
from .layouts import mem_layout

__all__ = ["TensorLoad"]


class TensorLoad(wiring.Component):
    """Runs one LOAD instruction at a time into a scratchpad write port.

    Writes ``y_pad_0`` pad rows, then ``y_size`` rows of ``[x_pad_0 pads, x_size elements, x_pad_1 pads]``,
    then ``y_pad_1`` pad rows, to consecutive scratchpad entries from ``sram_base``: one entry per cycle
    whenever data is there.

    Parameters
    ----------
    cfg : VTAConfig
    src_lane_bits, dst_lane_bits : int
        Lane width in DRAM and in the scratchpad; ``dst > src`` sign-extends (LOAD ACC_8BIT).
    lanes : int
        Lanes per element.
    depth_log2 : int
        Scratchpad address width.

    Attributes
    ----------
    cmd : In(stream) of the LOAD instruction; accepted only when idle.
    base : In(32) byte address that ``dram_base`` is relative to.
    wr_addr, wr_data, wr_en : the scratchpad write port.
    rd_req, rd_resp : read half of the memory master.
    busy : Out(1)
    """

    def __init__(self, cfg, *, src_lane_bits, dst_lane_bits, lanes, depth_log2, max_burst=32):
        self.cfg = cfg
        self.src_lane_bits = src_lane_bits
        self.dst_lane_bits = dst_lane_bits
        self.lanes = lanes
        self.depth_log2 = depth_log2
        self.reader = ElemReader(elem_bits=src_lane_bits * lanes, data_width=cfg.BUS_WIDTH, max_burst=max_burst)
        super().__init__({
            "cmd": In(stream.Signature(mem_layout(cfg))),
            "base": In(DRAM_ADDR_BITS),
            "wr_addr": Out(depth_log2),
            "wr_data": Out(dst_lane_bits * lanes),
            "wr_en": Out(1),
            "rd_req": self.reader.signature.members["rd_req"],
            "rd_resp": self.reader.signature.members["rd_resp"],
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.reader = reader = self.reader
        wiring.connect(m, wiring.flipped(self.rd_req), reader.rd_req)
        wiring.connect(m, reader.rd_resp, wiring.flipped(self.rd_resp))

        insn = Signal(mem_layout(self.cfg))
        busy = Signal()
        start_reader = Signal()
        row = Signal(18)
        col = Signal(18)
        rows = Signal(18)
        width = Signal(18)
        m.d.comb += [self.busy.eq(busy | reader.busy | start_reader), self.cmd.ready.eq(~self.busy)]

        # Reader command is issued the cycle after acceptance, from the latched instruction.
        m.d.comb += [
            reader.cmd.valid.eq(start_reader),
            reader.cmd.payload.base.eq(self.base),
            reader.cmd.payload.elem.eq(insn.dram_base),
            reader.cmd.payload.x_size.eq(insn.x_size),
            reader.cmd.payload.y_size.eq(insn.y_size),
            reader.cmd.payload.x_stride.eq(insn.x_stride),
        ]
        with m.If(reader.cmd.ready):
            m.d.sync += start_reader.eq(0)

        # The minimum of the DRAM element type, sign-extended: -128 for LOAD ACC_8BIT, as the golden model.
        pad_lane = Const(-(1 << (self.src_lane_bits - 1)), signed(self.dst_lane_bits)).as_unsigned()
        pad_value = Mux(insn.pad_min, Cat(*[pad_lane] * self.lanes), 0)
        S, D = self.src_lane_bits, self.dst_lane_bits
        src = reader.elems.payload
        if S != D:
            lanes = []
            for i in range(self.lanes):
                lane = Signal(D, name=f"widen{i}")
                m.d.comb += lane.eq(src.word_select(i, S).as_signed())
                lanes.append(lane)
            widened = Cat(*lanes)
        else:
            widened = src

        in_pad = ((row < insn.y_pad_0) | (row >= insn.y_pad_0 + insn.y_size)
                  | (col < insn.x_pad_0) | (col >= insn.x_pad_0 + insn.x_size))
        advance = Signal()
        with m.If(busy):
            with m.If(in_pad):
                m.d.comb += [self.wr_en.eq(1), self.wr_data.eq(pad_value), advance.eq(1)]
            with m.Else():
                m.d.comb += [reader.elems.ready.eq(1), self.wr_data.eq(widened),
                             self.wr_en.eq(reader.elems.valid), advance.eq(reader.elems.valid)]
        with m.If(advance):
            m.d.sync += self.wr_addr.eq(self.wr_addr + 1)
            with m.If(col == width - 1):
                m.d.sync += [col.eq(0), row.eq(row + 1)]
                with m.If(row == rows - 1):
                    m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += col.eq(col + 1)

        with m.If(self.cmd.valid & self.cmd.ready):
            p = self.cmd.payload
            n_rows = p.y_pad_0 + p.y_size + p.y_pad_1
            n_cols = p.x_pad_0 + p.x_size + p.x_pad_1
            m.d.sync += [
                insn.eq(p), row.eq(0), col.eq(0), rows.eq(n_rows), width.eq(n_cols),
                self.wr_addr.eq(p.sram_base),
                busy.eq((n_rows != 0) & (n_cols != 0)),
                start_reader.eq((p.y_size != 0) & (p.x_size != 0)),
            ]
        return m
