"""Fetch: reads the instruction stream and routes each instruction to the load, compute or store queue."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import DRAM_ADDR_BITS, ReadPortSignature
from hw.common.elem_reader import ElemReader
from sw.vta.config import INSN_BITS, AluOp, MemId, Opcode
from .layouts import INDEX_BITS, QueuedInsn, alu_layout, mem_layout

__all__ = ["Fetch", "FetchError", "FETCH_CHUNK", "FETCH_BUFFER"]

#: Instructions requested per read command, and the buffer that always has room for a whole chunk.
FETCH_CHUNK = 16
FETCH_BUFFER = 32


class FetchError:
    """Codes of the error register: what stopped the run, if anything did."""
    NONE = 0
    OPCODE = 1       # unknown opcode
    MEMORY_TYPE = 2  # LOAD/STORE with a memory type that module cannot serve
    ALU_OPCODE = 3   # ALU opcode 7
    INDEX = 4        # GEMM/ALU index beyond a scratchpad (reported by compute)
    STORE_PAD = 5    # STORE with a non-zero pad field


class Fetch(wiring.Component):
    """Instruction fetch.

    Reads ``count`` 16-byte instructions from byte address ``base`` (in chunks, ahead of decoding) and
    pushes each, with its index in the stream, into the queue of the module that executes it: LOAD of
    INP/WGT to load, STORE to store, everything else to compute. An instruction that no module can run
    stops fetch and reports ``error`` with its index; a full queue stalls fetch in order.

    Attributes
    ----------
    start : In(1) pulse; base/count are sampled with it.
    load_q, compute_q, store_q : Out(stream) of :func:`QueuedInsn`.
    error : Out(1); error_code : Out(3); error_index : Out(32)
    blocked : Out(3) bit i: the next instruction waits for room in queue i (load, compute, store).
    busy : Out(1)
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.reader = ElemReader(elem_bits=INSN_BITS, data_width=cfg.BUS_WIDTH, count_bits=32,
                                 max_burst=32)
        super().__init__({
            "start": In(1),
            "base": In(DRAM_ADDR_BITS),
            "count": In(32),
            "port": Out(ReadPortSignature(cfg.BUS_WIDTH)),
            "load_q": Out(stream.Signature(QueuedInsn())),
            "compute_q": Out(stream.Signature(QueuedInsn())),
            "store_q": Out(stream.Signature(QueuedInsn())),
            "error": Out(1), "error_code": Out(3), "error_index": Out(INDEX_BITS),
            "blocked": Out(3),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.reader = reader = self.reader
        wiring.connect(m, wiring.flipped(self.port.rd_req), reader.rd_req)
        wiring.connect(m, reader.rd_resp, wiring.flipped(self.port.rd_resp))

        # The memory returns read data in request order to all clients, so a client that stops accepting
        # data blocks everyone behind it. Decode stalls whenever a module queue is full (the module may be
        # waiting for a LOAD whose data is queued behind ours): instructions are therefore read in chunks
        # into a buffer that always has room for the whole chunk, and decode drains the buffer instead.
        m.submodules.ibuf = ibuf = fifo.SyncFIFOBuffered(width=INSN_BITS, depth=FETCH_BUFFER)
        base = Signal(DRAM_ADDR_BITS)
        issued = Signal(32)
        left = Signal(32)
        chunk = Signal(range(FETCH_CHUNK + 1))
        m.d.comb += chunk.eq(Mux(left > FETCH_CHUNK, FETCH_CHUNK, left))
        issue = ((left != 0) & ~self.error & reader.cmd.ready & ~reader.busy
                 & (ibuf.level <= FETCH_BUFFER - FETCH_CHUNK))
        m.d.comb += [
            reader.cmd.valid.eq(issue),
            reader.cmd.payload.base.eq(base),
            reader.cmd.payload.elem.eq(issued),
            reader.cmd.payload.x_size.eq(chunk),
            reader.cmd.payload.y_size.eq(1),
            reader.cmd.payload.x_stride.eq(0),
            ibuf.w_data.eq(reader.elems.payload), ibuf.w_en.eq(reader.elems.valid),
            reader.elems.ready.eq(1),
            self.busy.eq(reader.busy | (left != 0) | ibuf.r_rdy),
        ]
        with m.If(issue):
            m.d.sync += [issued.eq(issued + chunk), left.eq(left - chunk)]
        with m.If(self.start):
            m.d.sync += [base.eq(self.base), issued.eq(0), left.eq(self.count)]

        queues = []
        for name in ("load", "compute", "store"):
            q = fifo.SyncFIFOBuffered(width=QueuedInsn().size, depth=cfg.INSN_QUEUE_DEPTH)
            m.submodules[f"{name}_fifo"] = q
            out = getattr(self, f"{name}_q")
            m.d.comb += [out.payload.eq(q.r_data), out.valid.eq(q.r_rdy), q.r_en.eq(out.ready)]
            queues.append(q)

        index = Signal(INDEX_BITS)
        word = ibuf.r_data
        mem = mem_layout(cfg)(word)
        alu = alu_layout(cfg)(word)
        opcode = word[:3]
        target = Signal(3)          # one-hot: load, compute, store
        code = Signal(3)
        with m.Switch(opcode):
            with m.Case(Opcode.LOAD):
                with m.Switch(mem.memory_type):
                    with m.Case(MemId.INP, MemId.WGT):
                        m.d.comb += target.eq(0b001)
                    with m.Case(MemId.UOP, MemId.ACC, MemId.ACC_8BIT):
                        m.d.comb += target.eq(0b010)
                    with m.Default():
                        m.d.comb += code.eq(FetchError.MEMORY_TYPE)
            with m.Case(Opcode.STORE):
                with m.If(mem.memory_type != MemId.OUT):
                    m.d.comb += code.eq(FetchError.MEMORY_TYPE)
                with m.Elif((mem.y_pad_0 | mem.y_pad_1 | mem.x_pad_0 | mem.x_pad_1) != 0):
                    m.d.comb += code.eq(FetchError.STORE_PAD)
                with m.Else():
                    m.d.comb += target.eq(0b100)
            with m.Case(Opcode.GEMM, Opcode.FINISH):
                m.d.comb += target.eq(0b010)
            with m.Case(Opcode.ALU):
                with m.If(alu.alu_opcode > max(AluOp.NAMES)):
                    m.d.comb += code.eq(FetchError.ALU_OPCODE)
                with m.Else():
                    m.d.comb += target.eq(0b010)
            with m.Default():
                m.d.comb += code.eq(FetchError.OPCODE)

        room = Signal(3)
        m.d.comb += room.eq(((target & 0b001).any() & queues[0].w_rdy)
                            | ((target & 0b010).any() & queues[1].w_rdy)
                            | ((target & 0b100).any() & queues[2].w_rdy))
        ok = ~self.error & (code == 0)
        m.d.comb += ibuf.r_en.eq(ok & room)
        for i, q in enumerate(queues):
            m.d.comb += [q.w_data.eq(word | (index << INSN_BITS)),
                         q.w_en.eq(ibuf.r_rdy & ok & target[i])]
        m.d.comb += self.blocked.eq(Mux(ibuf.r_rdy & ok & ~room, target, 0))
        with m.If(ibuf.r_rdy & ibuf.r_en):
            m.d.sync += index.eq(index + 1)
        with m.If(ibuf.r_rdy & ~self.error & (code != 0)):
            m.d.sync += [self.error.eq(1), self.error_code.eq(code), self.error_index.eq(index)]
        with m.If(self.start):
            m.d.sync += [index.eq(0), self.error.eq(0), self.error_code.eq(0)]
        return m
