"""TensorStore: executes a STORE (accumulator lanes truncated to OUT width, written to DRAM)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import DRAM_ADDR_BITS, MemBusSignature, log2
from .layouts import store_layout

__all__ = ["TensorStore"]


class TensorStore(wiring.Component):
    """Runs one STORE instruction at a time.

    Accumulator entry ``sram_base + y*x_size + x`` becomes DRAM element ``dram_base + y*x_stride + x``,
    each lane truncated to its low OUT bits (spec section 3), or, with the accelgen ``rq_en`` extension,
    shifted right by ``rq_shift`` and saturated to [0 or -128, 127] (``rq_relu``) in the same cycle. One accumulator read per cycle; elements
    narrower than the bus are packed into strobed words, wider ones are written as consecutive words.

    Attributes
    ----------
    cmd : In(stream) of the STORE instruction.
    base : In(32) byte address that ``dram_base`` is relative to.
    acc_addr : Out  accumulator read address (data returns the next cycle on ``acc_data``, and is registered
        before use).
    acc_data : In   accumulator read data.
    wr : Out(stream) write half of the memory master.
    busy : Out(1)
    """

    def __init__(self, cfg):
        self.cfg = cfg
        bus = MemBusSignature(cfg.BUS_WIDTH)
        super().__init__({
            "cmd": In(stream.Signature(store_layout(cfg))),
            "base": In(DRAM_ADDR_BITS),
            "acc_addr": Out(cfg.log_acc_depth),
            "acc_data": In(cfg.acc_elem_bits),
            "wr": Out(bus.members["wr"].signature),
            "busy": Out(1),
        })

    def _requant(self, m, insn, lane, i):
        """One lane to OUT bits: plain truncation, or (rq_en) shift right and saturate, all in one cycle."""
        cfg = self.cfg
        top = (1 << (cfg.out_bits - 1)) - 1
        shifted = Signal(signed(cfg.acc_bits), name=f"rq_shifted{i}")
        low = Signal(signed(cfg.out_bits + 1), name=f"rq_low{i}")
        out = Signal(cfg.out_bits, name=f"rq_out{i}")
        m.d.comb += [shifted.eq(lane >> insn.rq_shift), low.eq(Mux(insn.rq_relu, 0, -top - 1)), out.eq(lane[:cfg.out_bits])]
        with m.If(insn.rq_en):
            with m.If(shifted > top):
                m.d.comb += out.eq(top)
            with m.Elif(shifted < low):
                m.d.comb += out.eq(low)
            with m.Else():
                m.d.comb += out.eq(shifted[:cfg.out_bits])
        return out

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        O, B = cfg.out_elem_bits, cfg.BUS_WIDTH
        lo_, lb = log2(O // 8), log2(B // 8)
        lanes = cfg.batch * cfg.block_out

        insn = Signal(store_layout(cfg))
        issuing = Signal()
        y = Signal(16)
        x = Signal(16)
        row_elem = Signal(34)
        meta = data.StructLayout({"byte": DRAM_ADDR_BITS, "row_last": 1, "insn_last": 1})

        # --- read stage: one accumulator read per cycle, limited by space in the element FIFO ------------
        # The read data is registered before the requantiser (block-RAM output -> shifter -> compares
        # would be one long path), so two reads can be in flight ahead of the FIFO.
        m.submodules.q = q = fifo.SyncFIFO(width=O + meta.size, depth=6)
        inflight, inflight2 = Signal(), Signal()
        inflight_meta, inflight2_meta = Signal(meta), Signal(meta)
        acc_q = Signal.like(self.acc_data, name="acc_q")
        can_issue = Signal()
        ptr = Signal(cfg.log_acc_depth)
        m.d.comb += self.acc_addr.eq(ptr)
        m.d.comb += can_issue.eq(issuing & (q.level + inflight + inflight2 < q.depth))
        m.d.sync += [inflight.eq(can_issue), inflight2.eq(inflight), inflight2_meta.eq(inflight_meta),
                     acc_q.eq(self.acc_data)]
        row_done = x == insn.x_size - 1
        with m.If(can_issue):
            m.d.sync += [
                ptr.eq(ptr + 1),
                inflight_meta.byte.eq(self.base + ((row_elem + x) << lo_)),
                inflight_meta.row_last.eq(row_done),
                inflight_meta.insn_last.eq(row_done & (y == insn.y_size - 1)),
            ]
            with m.If(row_done):
                m.d.sync += [x.eq(0), y.eq(y + 1), row_elem.eq(row_elem + insn.x_stride)]
                with m.If(y == insn.y_size - 1):
                    m.d.sync += issuing.eq(0)
            with m.Else():
                m.d.sync += x.eq(x + 1)
        truncated = Cat(*[self._requant(m, insn, acc_q.word_select(i, cfg.acc_bits).as_signed(), i)
                          for i in range(lanes)])
        m.d.comb += [q.w_en.eq(inflight2), q.w_data.eq(Cat(truncated, inflight2_meta))]

        # --- packer: elements -> bus words ---------------------------------------------------------------
        elem = q.r_data[:O]
        em = Signal(meta)
        m.d.comb += em.eq(q.r_data[O:])
        packing = Signal()   # a STORE is between acceptance and its last write
        if O >= B:
            k = O // B
            j = Signal(range(k)) if k > 1 else Const(0, 1)
            m.d.comb += [
                self.wr.valid.eq(q.r_rdy),
                self.wr.payload.addr.eq((em.byte >> lb) + j),
                self.wr.payload.data.eq(elem.word_select(j, B) if k > 1 else elem),
                self.wr.payload.strb.eq((1 << (B // 8)) - 1),
            ]
            with m.If(self.wr.valid & self.wr.ready):
                if k > 1:
                    m.d.sync += j.eq(j + 1)
                with m.If(j == k - 1):
                    m.d.comb += q.r_en.eq(1)
                    with m.If(em.insn_last):
                        m.d.sync += packing.eq(0)
        else:
            nslot = B // O
            slot = em.byte[lo_:lb]
            word = Signal(B)
            strb = Signal(B // 8)
            merged_data = Signal(B)
            merged_strb = Signal(B // 8)
            elem_strb = Const((1 << (O // 8)) - 1, O // 8)
            m.d.comb += [
                merged_data.eq(word | (elem << (slot * O))),
                merged_strb.eq(strb | (elem_strb << (slot * (O // 8)))),
            ]
            flush = (slot == nslot - 1) | em.row_last
            m.d.comb += [
                self.wr.payload.addr.eq(em.byte >> lb),
                self.wr.payload.data.eq(merged_data),
                self.wr.payload.strb.eq(merged_strb),
            ]
            with m.If(q.r_rdy):
                with m.If(flush):
                    m.d.comb += self.wr.valid.eq(1)
                    with m.If(self.wr.ready):
                        m.d.comb += q.r_en.eq(1)
                        m.d.sync += [word.eq(0), strb.eq(0)]
                        with m.If(em.insn_last):
                            m.d.sync += packing.eq(0)
                with m.Else():
                    m.d.comb += q.r_en.eq(1)
                    m.d.sync += [word.eq(merged_data), strb.eq(merged_strb)]

        m.d.comb += [self.busy.eq(issuing | packing), self.cmd.ready.eq(~self.busy)]
        with m.If(self.cmd.valid & self.cmd.ready):
            p = self.cmd.payload
            nonempty = (p.x_size != 0) & (p.y_size != 0)
            m.d.sync += [
                insn.eq(p), x.eq(0), y.eq(0), row_elem.eq(p.dram_base),
                ptr.eq(p.sram_base),
                issuing.eq(nonempty), packing.eq(nonempty),
            ]
        return m
