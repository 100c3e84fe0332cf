"""Store: the module that runs STORE."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import DRAM_ADDR_BITS, MemBusSignature
from .layouts import QueuedInsn, store_layout
from .tensor_store import TensorStore
from .token_gate import StatusLayout, TokenGate

__all__ = ["Store"]


class Store(wiring.Component):
    """Store module: pops/pushes only the queues it shares with compute (the ``*_prev`` bits).

    Attributes
    ----------
    insn : In(stream) its instruction queue.
    prev_ready, prev_room : In; pop_prev, push_prev : Out   tokens with compute.
    out_base : In(32)
    acc_addr : Out; acc_data : In      accumulator read port (owned by compute).
    wr : Out(stream)                   the memory write channel.
    busy : Out(1); status : Out(StatusLayout)
    """

    def __init__(self, cfg):
        self.cfg = cfg
        super().__init__({
            "insn": In(stream.Signature(QueuedInsn())),
            "prev_ready": In(1), "prev_room": In(1), "pop_prev": Out(1), "push_prev": Out(1),
            "out_base": In(DRAM_ADDR_BITS),
            "acc_addr": Out(cfg.log_acc_depth), "acc_data": In(cfg.acc_elem_bits),
            "wr": Out(MemBusSignature(cfg.BUS_WIDTH).members["wr"].signature),
            "busy": Out(1), "status": Out(StatusLayout),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.tensor_store = unit = TensorStore(cfg)
        wiring.connect(m, unit.wr, wiring.flipped(self.wr))
        m.d.comb += [unit.base.eq(self.out_base), self.acc_addr.eq(unit.acc_addr), unit.acc_data.eq(self.acc_data)]

        head = store_layout(cfg)(self.insn.payload.insn)
        gate = TokenGate(m, head, {"prev": (self.prev_ready, self.prev_room)}, self.insn.valid)
        cur = Signal(store_layout(cfg))
        index = Signal(24)
        executing = Signal()
        start = Signal()
        done = Signal()
        m.d.comb += [start.eq(gate.ok & ~executing), self.insn.ready.eq(start),
                     unit.cmd.payload.eq(head), unit.cmd.valid.eq(start)]
        with m.If(start):
            m.d.sync += [cur.eq(head), index.eq(self.insn.payload.index), executing.eq(1)]
        m.d.comb += done.eq(executing & ~unit.busy)
        with m.If(done):
            m.d.sync += executing.eq(0)
        m.d.comb += [self.pop_prev.eq(gate.pops(start)["prev"]),
                     self.push_prev.eq(gate.pushes(done, cur)["prev"]),
                     self.busy.eq(executing)]
        gate.status(m, self.status, executing=executing, index=Mux(executing, index, self.insn.payload.index))
        m.d.comb += self.status.has_insn.eq(self.insn.valid)
        return m
