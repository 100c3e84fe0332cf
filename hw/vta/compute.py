"""Compute: runs LOAD UOP/ACC, GEMM, ALU and FINISH; owns the micro-op and accumulator scratchpads."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hw.common.bus import DRAM_ADDR_BITS, ReadPortSignature
from sw.vta.config import UOP_BITS, MemId, Opcode
from .acc_forward import AccForward
from .layouts import INDEX_BITS, QueuedInsn, TraceWriteLayout, alu_layout, gemm_layout, mem_layout
from .tensor_alu import TensorAlu
from .tensor_gemm import TensorGemm
from .tensor_load import TensorLoad
from .token_gate import StatusLayout, TokenGate

__all__ = ["Compute"]


class Compute(wiring.Component):
    """Compute module: uses all four token queues.

    The accumulator has one write port (LOAD ACC, GEMM and ALU never overlap: compute runs one
    instruction at a time) and three non-transparent read ports: dst (GEMM or ALU) and src (ALU), both
    registered and forwarded from the in-flight writes by :class:`AccForward` (latency 2), and one lent
    to the store module (compute has drained before store runs: tokens order them).

    Attributes
    ----------
    insn : In(stream) its instruction queue.
    prev_ready/prev_room, next_ready/next_room : In; pop_prev/pop_next/push_prev/push_next : Out
        tokens with load (prev) and store (next).
    uop_port, acc_port, acc8_port : Out(ReadPortSignature) memory clients.
    uop_base, acc_base : In(32)
    inp_rd_addr/inp_rd_data, wgt_rd_addr/wgt_rd_data : scratchpad reads from the load module.
    store_acc_addr : In; store_acc_data : Out   accumulator read port of the store module.
    finish : Out(1) FINISH executed.
    error : Out(1); error_index : Out(32)  a GEMM/ALU index beyond a scratchpad.
    gemm_busy, alu_busy, load_busy, acc_writes : Out   activity for the performance counters.
    status : Out(StatusLayout)
    trace_uop, trace_acc : Out(TraceWriteLayout)  only with ``trace=True``: every scratchpad write.
    """

    def __init__(self, cfg, *, trace=False):
        self.cfg = cfg
        self.trace = trace
        B = cfg.BUS_WIDTH
        extra = {"trace_uop": Out(TraceWriteLayout(cfg.log_uop_depth, UOP_BITS)),
                 "trace_acc": Out(TraceWriteLayout(cfg.log_acc_depth, cfg.acc_elem_bits))} if trace else {}
        super().__init__({**extra,
            "insn": In(stream.Signature(QueuedInsn())),
            "prev_ready": In(1), "prev_room": In(1), "pop_prev": Out(1), "push_prev": Out(1),
            "next_ready": In(1), "next_room": In(1), "pop_next": Out(1), "push_next": Out(1),
            "uop_port": Out(ReadPortSignature(B)), "acc_port": Out(ReadPortSignature(B)),
            "acc8_port": Out(ReadPortSignature(B)),
            "uop_base": In(DRAM_ADDR_BITS), "acc_base": In(DRAM_ADDR_BITS),
            "inp_rd_addr": Out(cfg.log_inp_depth), "inp_rd_data": In(cfg.inp_elem_bits),
            "wgt_rd_addr": Out(cfg.log_wgt_depth), "wgt_rd_data": In(cfg.wgt_elem_bits),
            "store_acc_addr": In(cfg.log_acc_depth), "store_acc_data": Out(cfg.acc_elem_bits),
            "finish": Out(1), "error": Out(1), "error_index": Out(INDEX_BITS),
            "gemm_busy": Out(1), "alu_busy": Out(1), "load_busy": Out(1), "acc_write": Out(1),
            "status": Out(StatusLayout),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        lanes = cfg.batch * cfg.block_out

        # Scratchpads.
        m.submodules.uop_sram = uop_mem = Memory(shape=UOP_BITS, depth=cfg.uop_depth, init=[])
        m.submodules.acc_sram = acc_mem = Memory(shape=cfg.acc_elem_bits, depth=cfg.acc_depth, init=[])
        uop_wp = uop_mem.write_port()
        uop_rp_gemm = uop_mem.read_port()
        uop_rp_alu = uop_mem.read_port()
        acc_wp = acc_mem.write_port()
        acc_rp_dst = acc_mem.read_port()
        acc_rp_src = acc_mem.read_port()
        acc_rp_store = acc_mem.read_port()
        m.submodules.acc_fwd = fwd = AccForward(addr_bits=cfg.log_acc_depth, data_bits=cfg.acc_elem_bits, ports=2)
        m.d.comb += [acc_rp_dst.addr.eq(fwd.mem0_addr), fwd.mem0_data.eq(acc_rp_dst.data),
                     acc_rp_src.addr.eq(fwd.mem1_addr), fwd.mem1_data.eq(acc_rp_src.data),
                     fwd.wr_en.eq(acc_wp.en), fwd.wr_addr.eq(acc_wp.addr), fwd.wr_data.eq(acc_wp.data)]
        m.d.comb += [acc_rp_store.addr.eq(self.store_acc_addr), self.store_acc_data.eq(acc_rp_store.data)]

        # Units.
        loads = {
            MemId.UOP: TensorLoad(cfg, src_lane_bits=UOP_BITS, dst_lane_bits=UOP_BITS, lanes=1,
                                  depth_log2=cfg.log_uop_depth),
            MemId.ACC: TensorLoad(cfg, src_lane_bits=cfg.acc_bits, dst_lane_bits=cfg.acc_bits, lanes=lanes,
                                  depth_log2=cfg.log_acc_depth),
            MemId.ACC_8BIT: TensorLoad(cfg, src_lane_bits=cfg.out_bits, dst_lane_bits=cfg.acc_bits, lanes=lanes,
                                       depth_log2=cfg.log_acc_depth),
        }
        for (mem_id, unit), (name, base) in zip(loads.items(), (("uop", self.uop_base), ("acc", self.acc_base),
                                                                 ("acc8", self.acc_base))):
            m.submodules[f"{name}_load"] = unit
            port = getattr(self, f"{name}_port")
            wiring.connect(m, wiring.flipped(port.rd_req), unit.rd_req)
            wiring.connect(m, unit.rd_resp, wiring.flipped(port.rd_resp))
            m.d.comb += unit.base.eq(base)
        m.submodules.gemm = gemm = TensorGemm(cfg)
        m.submodules.alu = alu = TensorAlu(cfg)

        m.d.comb += [
            uop_wp.addr.eq(loads[MemId.UOP].wr_addr), uop_wp.data.eq(loads[MemId.UOP].wr_data),
            uop_wp.en.eq(loads[MemId.UOP].wr_en),
            uop_rp_gemm.addr.eq(gemm.uop_addr), gemm.uop_data.eq(uop_rp_gemm.data),
            uop_rp_alu.addr.eq(alu.uop_addr), alu.uop_data.eq(uop_rp_alu.data),
            self.inp_rd_addr.eq(gemm.inp_addr), gemm.inp_data.eq(self.inp_rd_data),
            self.wgt_rd_addr.eq(gemm.wgt_addr), gemm.wgt_data.eq(self.wgt_rd_data),
            fwd.rd0_addr.eq(Mux(alu.busy, alu.dst_addr, gemm.acc_rd_addr)),
            gemm.acc_rd_data.eq(fwd.rd0_data), alu.dst_data.eq(fwd.rd0_data),
            fwd.rd1_addr.eq(alu.src_addr), alu.src_data.eq(fwd.rd1_data),
            fwd.rd1_imm.eq(alu.src_imm), fwd.rd1_use_imm.eq(alu.src_use_imm),
        ]
        # One accumulator writer at a time.
        writers = [(u.wr_addr, u.wr_data, u.wr_en) for u in (loads[MemId.ACC], loads[MemId.ACC_8BIT])]
        writers += [(gemm.acc_wr_addr, gemm.acc_wr_data, gemm.acc_wr_en), (alu.acc_wr_addr, alu.acc_wr_data, alu.acc_wr_en)]
        for addr, data_, en in writers:
            with m.If(en):
                m.d.comb += [acc_wp.addr.eq(addr), acc_wp.data.eq(data_), acc_wp.en.eq(1)]

        if self.trace:
            for t, port in ((self.trace_uop, uop_wp), (self.trace_acc, acc_wp)):
                m.d.comb += [t.en.eq(port.en), t.addr.eq(port.addr), t.data.eq(port.data)]

        # Instruction register: the queue's data comes straight out of a block RAM (5.6 ns on ECP5), and decoding
        # it into the units' start signals in the same cycle was the critical path; one entry keeps throughput.
        held = Signal()
        held_insn = Signal(QueuedInsn())
        take = Signal()
        m.d.comb += self.insn.ready.eq(~held | take)
        with m.If(self.insn.valid & self.insn.ready):
            m.d.sync += [held.eq(1), held_insn.eq(self.insn.payload)]
        with m.Elif(take):
            m.d.sync += held.eq(0)

        # Instruction sequencing.
        word = held_insn.insn
        head = mem_layout(cfg)(word)
        gate = TokenGate(m, head, {"prev": (self.prev_ready, self.prev_room),
                                   "next": (self.next_ready, self.next_room)}, held)
        cur = Signal(mem_layout(cfg))
        index = Signal(INDEX_BITS)
        executing = Signal()
        halted = Signal()
        start = Signal()
        done = Signal()
        opcode = word[:3]
        m.d.comb += [start.eq(gate.ok & ~executing & ~halted & ~self.error), take.eq(start)]
        # UOP loads never pad (docs/vta-isa-extensions.md): their pad fields are ignored.
        uop_cmd = Signal(mem_layout(cfg))
        m.d.comb += [uop_cmd.eq(head), uop_cmd.y_pad_0.eq(0), uop_cmd.y_pad_1.eq(0),
                     uop_cmd.x_pad_0.eq(0), uop_cmd.x_pad_1.eq(0)]
        for mem_id, unit in loads.items():
            m.d.comb += [unit.cmd.payload.eq(uop_cmd if mem_id == MemId.UOP else head),
                         unit.cmd.valid.eq(start & (opcode == Opcode.LOAD) & (head.memory_type == mem_id)
                                           & (head.x_size != 0))]
        m.d.comb += [
            gemm.cmd.payload.eq(gemm_layout(cfg)(word)), gemm.cmd.valid.eq(start & (opcode == Opcode.GEMM)),
            alu.cmd.payload.eq(alu_layout(cfg)(word)), alu.cmd.valid.eq(start & (opcode == Opcode.ALU)),
        ]
        with m.If(start):
            m.d.sync += [cur.eq(head), index.eq(held_insn.index), executing.eq(1)]
            with m.If(opcode == Opcode.FINISH):
                m.d.sync += halted.eq(1)
        any_busy = gemm.busy | alu.busy | loads[MemId.UOP].busy | loads[MemId.ACC].busy | loads[MemId.ACC_8BIT].busy
        m.d.comb += done.eq(executing & ~any_busy)
        with m.If(done):
            m.d.sync += executing.eq(0)
        with m.If((gemm.oob | alu.oob) & ~self.error):
            m.d.sync += [self.error.eq(1), self.error_index.eq(index)]
        pops, pushes = gate.pops(start), gate.pushes(done, cur)
        m.d.comb += [
            self.pop_prev.eq(pops["prev"]), self.pop_next.eq(pops["next"]),
            self.push_prev.eq(pushes["prev"]), self.push_next.eq(pushes["next"]),
            self.finish.eq(halted & ~executing),
            self.gemm_busy.eq(gemm.busy), self.alu_busy.eq(alu.busy),
            self.load_busy.eq(loads[MemId.UOP].busy | loads[MemId.ACC].busy | loads[MemId.ACC_8BIT].busy),
            self.acc_write.eq(gemm.acc_wr_en | alu.acc_wr_en),
        ]
        gate.status(m, self.status, executing=executing, index=Mux(executing, index, held_insn.index),
                    halted=halted)
        m.d.comb += self.status.has_insn.eq(held)
        return m
