"""Load: the module that runs LOAD INP / LOAD WGT and owns the input and weight scratchpads."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hw.common.bus import DRAM_ADDR_BITS, ReadPortSignature
from sw.vta.config import MemId
from .layouts import QueuedInsn, TraceWriteLayout, mem_layout
from .tensor_load import TensorLoad
from .token_gate import StatusLayout, TokenGate

__all__ = ["Load"]


class Load(wiring.Component):
    """Load module: pops/pushes only the queues it shares with compute (the ``*_next`` bits).

    Attributes
    ----------
    insn : In(stream) its instruction queue.
    next_ready, next_room : In; pop_next, push_next : Out   tokens with compute.
    inp_port, wgt_port : Out(ReadPortSignature)             memory clients.
    inp_base, wgt_base : In(32)                             host base registers (bytes).
    inp_rd_addr/inp_rd_data, wgt_rd_addr/wgt_rd_data        scratchpad read ports for GEMM.
    busy : Out(1) an instruction is executing; status : Out(StatusLayout)
    trace_inp, trace_wgt : Out(TraceWriteLayout)  only with ``trace=True``: every scratchpad write.
    """

    def __init__(self, cfg, *, trace=False):
        self.cfg = cfg
        self.trace = trace
        B = cfg.BUS_WIDTH
        extra = {f"trace_{n}": Out(TraceWriteLayout(d, w)) for n, d, w in
                 (("inp", cfg.log_inp_depth, cfg.inp_elem_bits), ("wgt", cfg.log_wgt_depth, cfg.wgt_elem_bits))} \
            if trace else {}
        super().__init__({**extra,
            "insn": In(stream.Signature(QueuedInsn())),
            "next_ready": In(1), "next_room": In(1), "pop_next": Out(1), "push_next": Out(1),
            "inp_port": Out(ReadPortSignature(B)), "wgt_port": Out(ReadPortSignature(B)),
            "inp_base": In(DRAM_ADDR_BITS), "wgt_base": In(DRAM_ADDR_BITS),
            "inp_rd_addr": In(cfg.log_inp_depth), "inp_rd_data": Out(cfg.inp_elem_bits),
            "wgt_rd_addr": In(cfg.log_wgt_depth), "wgt_rd_data": Out(cfg.wgt_elem_bits),
            "busy": Out(1), "status": Out(StatusLayout),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        units = {}
        for name, mem_id, bits, lanes, depth_log2 in (
                ("inp", MemId.INP, cfg.inp_bits, cfg.batch * cfg.block_in, cfg.log_inp_depth),
                ("wgt", MemId.WGT, cfg.wgt_bits, cfg.block_out * cfg.block_in, cfg.log_wgt_depth)):
            unit = TensorLoad(cfg, src_lane_bits=bits, dst_lane_bits=bits, lanes=lanes, depth_log2=depth_log2)
            m.submodules[f"{name}_load"] = unit
            mem = Memory(shape=bits * lanes, depth=1 << depth_log2, init=[])
            m.submodules[f"{name}_sram"] = mem
            wp = mem.write_port()
            rp = mem.read_port()
            m.d.comb += [wp.addr.eq(unit.wr_addr), wp.data.eq(unit.wr_data), wp.en.eq(unit.wr_en),
                         rp.addr.eq(getattr(self, f"{name}_rd_addr")),
                         getattr(self, f"{name}_rd_data").eq(rp.data),
                         unit.base.eq(getattr(self, f"{name}_base"))]
            if self.trace:
                t = getattr(self, f"trace_{name}")
                m.d.comb += [t.en.eq(unit.wr_en), t.addr.eq(unit.wr_addr), t.data.eq(unit.wr_data)]
            port = getattr(self, f"{name}_port")
            wiring.connect(m, wiring.flipped(port.rd_req), unit.rd_req)
            wiring.connect(m, unit.rd_resp, wiring.flipped(port.rd_resp))
            units[mem_id] = unit

        head = mem_layout(cfg)(self.insn.payload.insn)
        gate = TokenGate(m, head, {"next": (self.next_ready, self.next_room)}, self.insn.valid)
        cur = Signal(mem_layout(cfg))
        index = Signal(24)
        executing = Signal()
        start = Signal()
        done = Signal()
        m.d.comb += start.eq(gate.ok & ~executing)
        m.d.comb += self.insn.ready.eq(start)
        for unit_id, unit in units.items():
            m.d.comb += [unit.cmd.payload.eq(head),
                         unit.cmd.valid.eq(start & (head.memory_type == unit_id) & (head.x_size != 0))]
        with m.If(start):
            m.d.sync += [cur.eq(head), index.eq(self.insn.payload.index), executing.eq(1)]
        m.d.comb += done.eq(executing & ~units[MemId.INP].busy & ~units[MemId.WGT].busy)
        with m.If(done):
            m.d.sync += executing.eq(0)
        m.d.comb += [self.pop_next.eq(gate.pops(start)["next"]),
                     self.push_next.eq(gate.pushes(done, cur)["next"]),
                     self.busy.eq(executing)]
        gate.status(m, self.status, executing=executing, index=Mux(executing, index, self.insn.payload.index))
        m.d.comb += self.status.has_insn.eq(self.insn.valid)
        return m
