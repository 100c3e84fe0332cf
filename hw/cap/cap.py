"""CAP: the 2D associative processor: CAM array, controller, column/row buffers, DMA and host registers.

The host registers are the table :data:`sw.cap.regs.REGS` (offsets, kinds, meaning; docs/cap.md shows it),
built by :class:`hw.common.regfile.RegisterFile`. CTRL bit 0 is the register block's ``launch``; the CAP
also decodes CTRL bits 1 (clear the array in the start cycle) and 2 (start the DMA) from the write, and
keeps a command written while it is busy away from the register block (ERROR code BUSY).
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature
from hw.common.regfile import RegisterFile
from sw.cap.config import BUS_WIDTH, CAPConfig
from sw.cap.regs import CTRL_CLEAR_BIT, CTRL_DMA_BIT, CTRL_RUN_BIT, REGS

from .cam_array import CAMArray
from .controller import Controller, RunError
from .dma import DMA, Target
from .layouts import Kind

__all__ = ["CAP", "REGS"]


class CAP(wiring.Component):
    """The 2D CAP engine.

    Parameters
    ----------
    cfg : CAPConfig

    Attributes
    ----------
    host : In(RegBusSignature())
        Host registers (:data:`sw.cap.regs.REGS`).
    mem : Out(MemBusSignature(64))
        DMA master.
    idle : Out(1)
        Neither a run nor a DMA transfer is in progress.
    error : Out(1)
        The last run or transfer failed (code in the ERROR register).
    """

    def __init__(self, cfg: CAPConfig):
        if not isinstance(cfg, CAPConfig):
            raise TypeError(f"cfg must be a CAPConfig, not {cfg!r}")
        self.cfg = cfg
        super().__init__({
            "host": In(RegBusSignature()),
            "mem": Out(MemBusSignature(BUS_WIDTH)),
            "idle": Out(1),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.controller = ctl = Controller(cfg)
        m.submodules.array = arr = CAMArray(cfg)
        m.submodules.dma = dma = DMA(cfg)
        wiring.connect(m, dma.mem, wiring.flipped(self.mem))

        for name in ("kind", "key_h", "mask_h", "key_v", "mask_v", "window", "seg_k"):
            m.d.comb += getattr(arr, name).eq(getattr(ctl, name))

        # --- column and row buffers: the array's bit-sequential and word-sequential ports --------------
        bufs = {}
        for tgt, width, depth, lanes, rd_kind, out in (
                (Target.COLBUF, cfg.rows, cfg.colbuf_depth, cfg.col_lanes, Kind.RDCOL, arr.col_out),
                (Target.ROWBUF, cfg.cols, cfg.rowbuf_depth, cfg.row_lanes, Kind.RDROW, arr.row_out)):
            mem = memory.Memory(shape=width, depth=depth, init=[])
            m.submodules[tgt.name.lower()] = mem
            rp = mem.read_port(domain="comb")
            wp = mem.write_port(granularity=BUS_WIDTH)
            on = Signal(name=f"dma_on_{tgt.name.lower()}")
            m.d.comb += on.eq(dma.busy & (dma.cur_target == tgt))
            m.d.comb += [rp.addr.eq(Mux(on, dma.entry, ctl.entry)),
                         wp.addr.eq(Mux(on, dma.entry, ctl.entry)),
                         wp.data.eq(Mux(on, dma.w_data.replicate(lanes), out))]
            with m.If(on):
                m.d.comb += wp.en.eq(dma.w_en << dma.lane)
            with m.Elif(ctl.kind == rd_kind):
                m.d.comb += wp.en.eq((1 << lanes) - 1)
            bufs[tgt] = (rp, lanes)
        m.d.comb += [arr.col_in.eq(bufs[Target.COLBUF][0].data), arr.row_in.eq(bufs[Target.ROWBUF][0].data)]
        with m.Switch(dma.cur_target):
            for tgt, (rp, lanes) in bufs.items():
                with m.Case(tgt):
                    m.d.comb += dma.r_word.eq(rp.data.word_select(dma.lane[:max(1, (lanes - 1).bit_length())],
                                                                  BUS_WIDTH) if lanes > 1 else rp.data)
        m.d.comb += [ctl.prog_w_addr.eq(dma.entry), ctl.prog_w_data.eq(dma.w_data),
                     ctl.prog_w_en.eq(dma.w_en & (dma.cur_target == Target.PROG))]

        # --- host registers: the table's register block; CTRL bits 1 and 2 decoded from the write ----------
        host = self.host
        m.submodules.regs = rf = RegisterFile(REGS, addr_width=len(host.addr))
        busy_error = Signal()
        ctrl_w = host.w_stb & (host.addr == REGS["ctrl"].offset)
        busy = ctl.busy | dma.busy
        m.d.comb += [rf.host.addr.eq(host.addr), rf.host.w_data.eq(host.w_data),
                     rf.host.w_stb.eq(host.w_stb & ~(ctrl_w & busy)), host.r_data.eq(rf.host.r_data)]
        run_or_dma = host.w_data[CTRL_RUN_BIT] | host.w_data[CTRL_DMA_BIT]
        with m.If(ctrl_w & busy & run_or_dma):
            m.d.sync += busy_error.eq(1)
        with m.Elif(ctrl_w & run_or_dma):
            m.d.sync += busy_error.eq(0)
        m.d.comb += [
            ctl.start.eq(rf.launch),
            ctl.clear.eq(host.w_data[CTRL_CLEAR_BIT]),
            ctl.prog_len.eq(rf.prog_len),
            dma.start.eq(ctrl_w & host.w_data[CTRL_DMA_BIT] & ~busy
                         & ~host.w_data[CTRL_RUN_BIT]),
            dma.store.eq(rf.dma_cfg[4]),
            dma.target.eq(rf.dma_cfg[:2]),
            dma.dram_addr.eq(rf.dma_addr),
            dma.count.eq(rf.dma_count),
            dma.entry0.eq(rf.dma_entry),
        ]
        for name in ("cycles", "compares", "writes", "reads"):
            m.d.comb += getattr(rf, f"count_{name}").eq(getattr(ctl, f"count_{name}"))
        # ERROR describes the last command: a DMA transfer or a run.
        last_dma = Signal()
        with m.If(dma.start):
            m.d.sync += last_dma.eq(1)
        with m.Elif(ctl.start):
            m.d.sync += last_dma.eq(0)
        code = Signal(4)
        m.d.comb += code.eq(Mux(busy_error, RunError.BUSY,
                                Mux(last_dma, Mux(dma.range_error, RunError.DMA_RANGE, RunError.NONE), ctl.error)))
        m.d.comb += [self.idle.eq(~busy), self.error.eq(code != 0)]
        # The run ends when the controller is idle again (a refused program length: in the cycle after the start).
        m.d.comb += [rf.finish.eq(~ctl.busy & (ctl.error == RunError.NONE)),
                     rf.error.eq(~ctl.busy & (ctl.error != RunError.NONE)),
                     rf.status.eq(ctl.busy | dma.busy << 1 | (code != 0) << 2),
                     rf.error_code.eq(code | ctl.error_pc << 8), rf.dma_words.eq(dma.done_words)]
        return m
