"""CAP: the 2D associative processor: CAM array, controller, column/row buffers, DMA and host registers.

Host registers (32-bit, byte offsets):

====== ============ ===== ================================================================================
offset name         dir   meaning
====== ============ ===== ================================================================================
0x00   CTRL         W     bit 0 run the program, bit 1 clear the array in the start cycle, bit 2 start the DMA
0x04   PROG_LEN     RW    micro-ops to run
0x08   DMA_ADDR     RW    DRAM word address (64-bit words)
0x0C   DMA_COUNT    RW    words to move
0x10   DMA_CFG      RW    bits [1:0] target (0 program, 1 column buffer, 2 row buffer), bit 4 store (to DRAM)
0x14   DMA_ENTRY    RW    first entry of the target memory
0x20   STATUS       R     bit 0 run busy, bit 1 DMA busy, bit 2 error
0x24   CYCLES       R     cycles in which a micro-op executed (last run)
0x28   COMPARES     R     compare micro-ops (CMP, VCMP) of the last run
0x2C   WRITES       R     write micro-ops (WR, VWR, LDCOL, SETCOL, LDROW)
0x30   READS        R     read micro-ops (RDCOL, RDROW)
0x34   ERROR        R     bits [3:0] code (see :class:`~hw.cap.controller.RunError`), bits [31:8] micro-op pc
0x38   DMA_WORDS    R     words moved by the current/last DMA transfer
====== ============ ===== ================================================================================
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature
from sw.cap.config import BUS_WIDTH, CAPConfig

from .cam_array import CAMArray
from .controller import Controller, RunError
from .dma import DMA, Target
from .layouts import Kind

__all__ = ["CAP", "REGS"]

REGS = {"ctrl": 0x00, "prog_len": 0x04, "dma_addr": 0x08, "dma_count": 0x0C, "dma_cfg": 0x10,
        "dma_entry": 0x14, "status": 0x20, "cycles": 0x24, "compares": 0x28, "writes": 0x2C, "reads": 0x30,
        "error": 0x34, "dma_words": 0x38}


class CAP(wiring.Component):
    """The 2D CAP engine.

    Parameters
    ----------
    cfg : CAPConfig

    Attributes
    ----------
    host : In(RegBusSignature())
        Host registers (see the module docstring).
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

        # --- host registers ---------------------------------------------------------------------------
        host = self.host
        regs = {name: Signal(32, name=name) for name in ("prog_len", "dma_addr", "dma_count", "dma_cfg", "dma_entry")}
        busy_error = Signal()
        wr = host.w_stb
        with m.If(wr):
            for name, sig in regs.items():
                with m.If(host.addr == REGS[name]):
                    m.d.sync += sig.eq(host.w_data)
        ctrl_w = wr & (host.addr == REGS["ctrl"])
        busy = ctl.busy | dma.busy
        with m.If(ctrl_w & busy & (host.w_data[0] | host.w_data[2])):
            m.d.sync += busy_error.eq(1)
        with m.Elif(ctrl_w & (host.w_data[0] | host.w_data[2])):
            m.d.sync += busy_error.eq(0)
        m.d.comb += [
            ctl.start.eq(ctrl_w & host.w_data[0] & ~busy),
            ctl.clear.eq(host.w_data[1]),
            ctl.prog_len.eq(regs["prog_len"]),
            dma.start.eq(ctrl_w & host.w_data[2] & ~busy & ~host.w_data[0]),
            dma.store.eq(regs["dma_cfg"][4]),
            dma.target.eq(regs["dma_cfg"][:2]),
            dma.dram_addr.eq(regs["dma_addr"]),
            dma.count.eq(regs["dma_count"]),
            dma.entry0.eq(regs["dma_entry"]),
        ]
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
        reads = {REGS[n]: s for n, s in regs.items()}
        reads.update({REGS["status"]: ctl.busy | dma.busy << 1 | (code != 0) << 2,
                      REGS["cycles"]: ctl.cycles, REGS["compares"]: ctl.compares, REGS["writes"]: ctl.writes,
                      REGS["reads"]: ctl.reads, REGS["error"]: code | ctl.error_pc << 8,
                      REGS["dma_words"]: dma.done_words})
        with m.Switch(host.addr):
            for a, v in reads.items():
                with m.Case(a):
                    m.d.comb += host.r_data.eq(v)
        return m
