"""Controller: program memory, fetch, decode into the key/mask registers, and the run counters.

Pipeline: the program memory is read one cycle ahead (its address is the next pc), each micro-op is decoded
into the key, mask and window registers in the cycle it arrives, and the array executes it in the next
cycle, so every micro-op costs exactly one cycle in steady state. The micro-op 0 is decoded in the cycle of
the start command itself (the memory presents address 0 while idle), so a program of N micro-ops executes
in N cycles after the start cycle; the start cycle also clears the array when asked.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import enum, memory, wiring
from amaranth.lib.wiring import In, Out

from sw.cap.config import BUS_WIDTH
from sw.cap.isa import COUNTER_OF, Op

from .layouts import Kind, UopLayout

__all__ = ["Controller", "RunError"]


class RunError(enum.Enum, shape=4):
    """Error codes of a run (ERROR register bits [3:0]; the micro-op's pc is in bits [31:8])."""
    NONE = 0
    OPCODE = 1          # unknown opcode
    INDEX = 2           # a row, column or buffer entry outside the array or the buffer
    PROG_LEN = 3        # program length 0 or longer than the program memory
    DMA_RANGE = 4       # a DMA transfer beyond the target memory
    BUSY = 5            # a command while the CAP was busy


def _onehot(idx, width):
    return (Const(1, width) << idx)[:width]


def _or(values):
    out = 0
    for v in values:
        out = out | v
    return out


class Controller(wiring.Component):
    """Program memory, fetch/decode/execute sequencing and counters.

    Parameters
    ----------
    cfg : sw.cap.config.CAPConfig

    Attributes
    ----------
    start, clear : In(1)
        Start a run (``clear`` zeroes the array in the start cycle).
    prog_len : In(32)
        Micro-ops to run.
    prog_w_addr, prog_w_data, prog_w_en : In
        Program memory write port (the DMA).
    busy : Out(1)
    error : Out(RunError)
        Error of the last run (``NONE`` when it completed).
    error_pc : Out(24)
    count_cycles, count_compares, count_writes, count_reads : Out(1)
        Count strobes for the register block's counters (:mod:`sw.cap.regs`): a micro-op executes this
        cycle, and it is a compare / write / read.
    kind, key_h, mask_h, key_v, mask_v, window, entry : Out
        The decoded command the array and the buffers execute this cycle.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        super().__init__({
            "start": In(1), "clear": In(1), "prog_len": In(32),
            "prog_w_addr": In(cfg.pc_bits), "prog_w_data": In(BUS_WIDTH), "prog_w_en": In(1),
            "busy": Out(1), "error": Out(RunError), "error_pc": Out(24),
            "count_cycles": Out(1), "count_compares": Out(1), "count_writes": Out(1), "count_reads": Out(1),
            "kind": Out(Kind), "key_h": Out(cfg.cols), "mask_h": Out(cfg.cols),
            "key_v": Out(cfg.rows), "mask_v": Out(cfg.rows), "window": Out(cfg.cols), "entry": Out(8),
            "seg_k": Out(3),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        R, C = cfg.rows, cfg.cols

        m.submodules.pmem = pmem = memory.Memory(shape=BUS_WIDTH, depth=cfg.prog_depth, init=[])
        rd = pmem.read_port()
        wp = pmem.write_port()
        m.d.comb += [wp.addr.eq(self.prog_w_addr), wp.data.eq(self.prog_w_data), wp.en.eq(self.prog_w_en)]

        pc = Signal(range(cfg.prog_depth + 1))     # pc of the micro-op being decoded
        length = Signal(range(cfg.prog_depth + 1))
        uop = UopLayout(rd.data)

        # --- decode: key, mask and window registers ------------------------------------------------
        key_h, mask_h = Signal(C), Signal(C)
        key_v, mask_v = Signal(R), Signal(R)
        bad_index = Signal()
        # The OR of the fields' one-hot positions (a field's key bit lands at its index).
        m.d.comb += [mask_h.eq(_or(Mux(f.en, _onehot(f.idx, C), 0) for f in uop.fields)),
                     key_h.eq(_or(Mux(f.en & f.val, _onehot(f.idx, C), 0) for f in uop.fields)),
                     mask_v.eq(_or(Mux(f.en, _onehot(f.idx, R), 0) for f in uop.fields)),
                     key_v.eq(_or(Mux(f.en & f.val, _onehot(f.idx, R), 0) for f in uop.fields))]
        f0 = uop.fields[0]
        window = Cat((uop.aux <= c) & (c <= uop.hi) for c in range(C))
        op = uop.op
        horizontal = (op == Op.CMP) | (op == Op.WR) | (op == Op.LDCOL) | (op == Op.SETCOL) | (op == Op.RDCOL)
        vertical = (op == Op.VCMP) | (op == Op.VWR) | (op == Op.LDROW) | (op == Op.RDROW)
        for f in uop.fields:
            with m.If(f.en & horizontal & (f.idx >= C)):
                m.d.comb += bad_index.eq(1)
            with m.If(f.en & vertical & (f.idx >= R)):
                m.d.comb += bad_index.eq(1)
        with m.If((op == Op.VCMP) & ((uop.aux >= C) | (uop.hi >= C))):
            m.d.comb += bad_index.eq(1)
        with m.If(((op == Op.LDCOL) | (op == Op.RDCOL)) & (uop.aux >= cfg.colbuf_depth)):
            m.d.comb += bad_index.eq(1)
        with m.If(((op == Op.LDROW) | (op == Op.RDROW)) & (uop.aux >= cfg.rowbuf_depth)):
            m.d.comb += bad_index.eq(1)
        segmented = (op == Op.SVCMP) | (op == Op.SVWR)
        with m.If(segmented & (f0.idx >= R.bit_length() - 1)):
            m.d.comb += bad_index.eq(1)
        with m.If((op == Op.SVCMP) & ((uop.aux >= C) | (uop.hi >= C))):
            m.d.comb += bad_index.eq(1)
        bad_op = op > (Op.SVWR if cfg.segmentation else Op.RDROW)

        # Execute-stage registers.
        e_valid = Signal()
        e_kind = Signal(Kind)
        e_bad = Signal(RunError)
        e_pc = Signal(24)
        decoded = [self.key_h.eq(Mux(op == Op.SETCOL, f0.val.replicate(C), key_h)),
                   self.mask_h.eq(mask_h), self.key_v.eq(key_v), self.mask_v.eq(mask_v),
                   self.window.eq(window), self.entry.eq(uop.aux), self.seg_k.eq(f0.idx[:3]), e_pc.eq(pc),
                   e_bad.eq(Mux(bad_op, RunError.OPCODE, Mux(bad_index, RunError.INDEX, RunError.NONE))),
                   e_kind.as_value().eq(Mux(bad_op | bad_index, Kind.NOP.value, op))]

        m.d.comb += self.kind.eq(Mux(e_valid, e_kind, Kind.NOP))
        counting = {"compares": [], "writes": [], "reads": []}
        for code, name in COUNTER_OF.items():
            counting[name].append(e_kind.as_value() == code)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += rd.addr.eq(0)
                m.d.sync += pc.eq(0)
                with m.If(self.start):
                    with m.If((self.prog_len == 0) | (self.prog_len > cfg.prog_depth)):
                        m.d.sync += [self.error.eq(RunError.PROG_LEN), self.error_pc.eq(0)]
                    with m.Else():
                        m.d.comb += rd.addr.eq(1)
                        m.d.sync += [*decoded, e_valid.eq(1), pc.eq(1), length.eq(self.prog_len), e_pc.eq(0),
                                     self.error.eq(RunError.NONE)]
                        with m.If(self.clear):
                            m.d.comb += self.kind.eq(Kind.CLEAR)
                        m.next = "RUN"
            with m.State("RUN"):
                m.d.comb += [self.busy.eq(1), rd.addr.eq(pc + 1)]
                with m.If(e_valid):
                    m.d.comb += self.count_cycles.eq(1)
                    for name, conds in counting.items():
                        m.d.comb += getattr(self, f"count_{name}").eq(Cat(conds).any())
                with m.If(e_valid & (e_bad != RunError.NONE)):
                    m.d.sync += [self.error.eq(e_bad), self.error_pc.eq(e_pc), e_valid.eq(0)]
                    m.next = "IDLE"
                with m.Elif(pc < length):
                    m.d.sync += [*decoded, e_valid.eq(1), pc.eq(pc + 1)]
                with m.Else():
                    m.d.sync += e_valid.eq(0)
                    with m.If(~e_valid):
                        m.next = "IDLE"
        return m
