"""Core: the 4-stage in-order pipeline (F fetch, D decode, X execute, M memory/write-back).

* F presents ``f_pc`` to the synchronous instruction RAM; the next pc is ``f_pc + 4``, the hardware-loop start
  (:class:`HwLoop`, zero overhead) or a redirect from X.
* D receives the word from the RAM and decodes it (:class:`Decoder`); the control word is registered into X.
* X reads the register file with a bypass from M (the only older instruction not yet written back), runs the
  ALU, branch compare, multiplier, divider (stalls X), SIMD dot product, CSRs and hardware-loop updates,
  presents load/store addresses to the synchronous data RAM and resolves every control transfer (2 bubbles).
  Post-increment pointer updates are written to the register file at the end of X.
* M aligns load data, writes rd and refills the NN register file. Load data is forwarded from M straight into
  X, so a load followed by a dependent instruction (and a MAC&LOAD refill followed by a MAC&LOAD reading that
  NN register) runs without a stall.

Illegal instructions, fetch faults, out-of-RAM accesses and misaligned MAC&LOAD refills stop the core in X with
``error`` and ``stop_pc``; a store of a non-zero value to ``tohost_addr`` stops it normally. A scalar load or
store that crosses a word boundary holds X for one extra cycle (two data-port accesses, see
:class:`LoadStoreUnit`).
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.xpulpnn.alu import ALU
from hw.xpulpnn.csr import CsrFile
from hw.xpulpnn.decoder import Decoder
from hw.xpulpnn.divider import Divider
from hw.xpulpnn.dotp import DotpUnit
from hw.xpulpnn.hwloop import HwLoop
from hw.xpulpnn.layouts import CommitLayout, Ctrl, DotMode, ErrorCode, InsnLayout, SysOp, Unit
from hw.xpulpnn.lsu import LoadStoreUnit
from hw.xpulpnn.multiplier import Multiplier
from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig
from sw.xpulpnn.isa import NN_RF_SIZE

__all__ = ["Core", "InsnBusSignature", "DataBusSignature"]

#: Instruction port of a synchronous RAM: ``rdata`` is the word at the ``addr`` of the previous cycle in which
#: ``en`` was 1 (it holds while ``en`` is 0).
InsnBusSignature = wiring.Signature({"addr": Out(32), "en": Out(1), "rdata": In(32)})
#: Data port: reads like the instruction port; ``we`` byte lanes of ``wdata`` are written at the clock edge.
DataBusSignature = wiring.Signature({"addr": Out(32), "en": Out(1), "we": Out(4), "wdata": Out(32),
                                     "rdata": In(32)})


class Core(wiring.Component):
    """The RV32IM + XpulpV2 + XpulpNN core.

    Parameters
    ----------
    cfg : XpulpNNConfig

    Attributes
    ----------
    ibus : Out(InsnBusSignature)
    dbus : Out(DataBusSignature)
    reset_pc : In(32)
        First pc after reset (sampled in the first cycle).
    tohost_addr : In(32)
        A store of a non-zero value to this word stops the core.
    halted : Out(1)
        The core stopped (tohost written or error).
    error : Out(ErrorCode)
        Why it stopped, ``NONE`` for a tohost stop.
    stop_pc : Out(32)
        pc of the faulting instruction, the pc after the tohost store, or (still running) the pc in X.
    tohost_value : Out(32)
    cycle, instret : Out(64)
        mcycle / minstret.
    commit : Out(CommitLayout)
        The instruction written back this cycle (for the commit trace).
    """

    ibus: Out(InsnBusSignature)
    dbus: Out(DataBusSignature)
    reset_pc: In(32)
    tohost_addr: In(32)
    halted: Out(1)
    error: Out(ErrorCode)
    stop_pc: Out(32)
    tohost_value: Out(32)
    cycle: Out(64)
    instret: Out(64)
    commit: Out(CommitLayout)

    def __init__(self, cfg: XpulpNNConfig):
        if not isinstance(cfg, XpulpNNConfig):
            raise TypeError(f"cfg must be an XpulpNNConfig, not {cfg!r}")
        self.cfg = cfg
        super().__init__()

    def elaborate(self, platform):
        cfg = self.cfg
        m = Module()
        m.submodules.decoder = dec = Decoder(cfg)
        m.submodules.alu = alu = ALU()
        m.submodules.multiplier = mul = Multiplier()
        m.submodules.divider = div = Divider(cfg.div_cycles)
        m.submodules.dotp = dotp = DotpUnit()
        m.submodules.lsu = lsu = LoadStoreUnit(cfg)
        m.submodules.hwloop = hwl = HwLoop()
        m.submodules.csr = csr = CsrFile(hwloops=cfg.xpulpv2)

        booted = Signal()
        halted = self.halted
        stall = Signal()
        redirect = Signal()
        redirect_pc = Signal(32)
        halt_now = Signal()
        kill = redirect | halt_now | halted

        # ---- F ---------------------------------------------------------------------------------------------
        f_pc = Signal(32)
        f_valid = booted & ~halted
        m.d.comb += [self.ibus.addr.eq(f_pc), self.ibus.en.eq(~stall)]
        with m.If(~booted):
            m.d.sync += [f_pc.eq(self.reset_pc), booted.eq(1)]
        with m.Elif(redirect):
            m.d.sync += f_pc.eq(redirect_pc)
        with m.Elif(~stall):
            m.d.sync += f_pc.eq(Mux(hwl.f_loop, hwl.f_target, f_pc + 4))

        # ---- D ---------------------------------------------------------------------------------------------
        d_valid = Signal()
        d_pc = Signal(32)
        m.d.comb += dec.insn.eq(self.ibus.rdata)
        with m.If(kill):
            m.d.sync += d_valid.eq(0)
        with m.Elif(~stall):
            m.d.sync += [d_valid.eq(f_valid), d_pc.eq(f_pc)]

        # ---- X ---------------------------------------------------------------------------------------------
        x_valid = Signal()
        x_pc = Signal(32)
        x_insn = Signal(InsnLayout)
        x_word = x_insn.as_value()
        c = Signal(Ctrl)
        with m.If(kill):
            m.d.sync += x_valid.eq(0)
        with m.Elif(~stall):
            m.d.sync += [x_valid.eq(d_valid), x_pc.eq(d_pc), x_insn.eq(self.ibus.rdata), c.eq(dec.ctrl)]

        # M-stage state read by X's bypass
        m_valid = Signal()
        m_rd_we = Signal()
        m_rd = Signal(5)
        m_result = Signal(32)
        m_load = Signal()
        m_nn_we = Signal()
        m_nn_idx = Signal(3)
        m_wb = Signal(32)
        m.d.comb += m_wb.eq(Mux(m_load, lsu.m_value, m_result))

        rf = Array(Signal(32, name=f"x{i}") for i in range(32))
        nn = Array(Signal(32, name=f"nn{i}") for i in range(NN_RF_SIZE))

        def read_x(r):
            return Mux(m_rd_we & (m_rd == r), m_wb, rf[r])

        def read_nn(i):
            return Mux(m_nn_we & (m_nn_idx == i), self.dbus.rdata, nn[i])

        rs1, rs2, rd = x_insn.rs1, x_insn.rs2, x_insn.rd
        rs1v, rs2v, rdv = Signal(32), Signal(32), Signal(32)
        m.d.comb += [rs1v.eq(read_x(rs1)), rs2v.eq(read_x(rs2)), rdv.eq(read_x(rd))]

        unit = c.unit
        is_ = {u: (unit == u) for u in Unit}

        # ALU / branches
        m.d.comb += [alu.op.eq(c.alu_op), alu.a.eq(rs1v), alu.b.eq(Mux(c.b_imm, c.imm, rs2v)), alu.pc.eq(x_pc)]
        f3 = x_insn.funct3
        eq = rs1v == rs2v
        lt = rs1v.as_signed() < rs2v.as_signed()
        ltu = rs1v < rs2v
        cond = Mux(f3[2], Mux(f3[1], ltu, lt), eq) ^ f3[0]

        # multiplier / divider
        m.d.comb += [mul.a.eq(rs1v), mul.b.eq(rs2v), mul.op.eq(c.md_op),
                     div.a.eq(rs1v), div.b.eq(rs2v), div.op.eq(c.md_op)]

        # MAC&LOAD control field: [4] W-update, [3] A-update, [2:1] W index, [0] A index
        mls_a = x_word[20]
        mls_w = x_word[21:23] + 2
        mls_load = is_[Unit.MLS] & (x_word[23] | x_word[24])
        mls_dst = Mux(x_word[23], mls_a, mls_w)

        # dot products: second operand by mode, lanes replicated for .sc / .sci
        def replicate_low(v):
            return Array([v[0:16].replicate(2), v[0:8].replicate(4), v[0:4].replicate(8),
                          v[0:2].replicate(16)])[c.dot_width]
        dot_b = Signal(32)
        with m.Switch(c.dot_mode):
            with m.Case(DotMode.SC):
                m.d.comb += dot_b.eq(replicate_low(rs2v))
            with m.Case(DotMode.SCI):
                m.d.comb += dot_b.eq(replicate_low(c.imm))
            with m.Default():
                m.d.comb += dot_b.eq(rs2v)
        m.d.comb += [
            dotp.a.eq(Mux(is_[Unit.MLS], read_nn(mls_a), rs1v)),
            dotp.b.eq(Mux(is_[Unit.MLS], read_nn(mls_w), dot_b)),
            dotp.acc.eq(rdv), dotp.width.eq(c.dot_width), dotp.signed_a.eq(c.dot_sa),
            dotp.signed_b.eq(c.dot_sb), dotp.use_acc.eq(c.dot_acc),
        ]

        # loads / stores (MAC&LOAD loads a word at rs1; post-increment forms access rs1 itself)
        is_load = is_[Unit.LOAD] | mls_load
        is_mem = is_load | is_[Unit.STORE]
        addr = Signal(32)
        m.d.comb += [
            addr.eq(Mux(c.post_inc | is_[Unit.MLS], rs1v, rs1v + c.imm)),
            lsu.addr.eq(addr), lsu.size.eq(Mux(is_[Unit.MLS], 2, c.mem_size)), lsu.wdata.eq(rs2v),
        ]
        pi_we = Signal()
        pi_value = Signal(32)
        m.d.comb += [
            pi_we.eq(((c.post_inc & (is_[Unit.LOAD] | is_[Unit.STORE])) | mls_load) & (rs1 != 0)),
            pi_value.eq(rs1v + Mux(is_[Unit.MLS], 4, Mux(c.post_reg, rs2v, c.imm))),
        ]
        st_mask = Array([Const(0xFF, 32), Const(0xFFFF, 32), Const(0xFFFF_FFFF, 32),
                         Const(0xFFFF_FFFF, 32)])[c.mem_size]
        st_value = rs2v & st_mask

        # errors, in the ISS's order: fetch, decode, memory
        bits = cfg.ram_words_log2 + 2
        x_err = Signal(ErrorCode)
        with m.If((x_pc[0:2] != 0) | (x_pc[bits:32] != RAM_BASE >> bits)):
            m.d.comb += x_err.eq(ErrorCode.FETCH)
        with m.Elif(~c.legal):
            m.d.comb += x_err.eq(ErrorCode.ILLEGAL)
        with m.Elif(mls_load & lsu.misaligned):
            m.d.comb += x_err.eq(ErrorCode.MISALIGNED)
        with m.Elif(is_mem & lsu.outside):
            m.d.comb += x_err.eq(ErrorCode.ACCESS)
        x_error = x_valid & (x_err != ErrorCode.NONE)

        # a scalar load/store that crosses a word boundary takes two data-port cycles: the first holds X
        ma_second = Signal()       # X is in the second cycle of a split access
        split = Signal()
        m.d.comb += split.eq(x_valid & (is_[Unit.LOAD] | is_[Unit.STORE]) & lsu.cross & ~x_error)
        split_first = split & ~ma_second
        m.d.sync += ma_second.eq(split_first & ~halted)
        m.d.comb += lsu.phase.eq(ma_second)

        # the divider holds X until its result is ready
        m.d.comb += [
            stall.eq((x_valid & is_[Unit.DIV] & ~div.done & ~x_error) | split_first),
            div.start.eq(x_valid & is_[Unit.DIV] & ~div.busy & ~div.done & ~x_error),
        ]
        x_fire = Signal()
        m.d.comb += [x_fire.eq(x_valid & ~stall & ~x_error), div.ack.eq(x_fire & is_[Unit.DIV])]

        # data port
        m.d.comb += [
            self.dbus.addr.eq(Mux(ma_second, Cat(Const(0, 2), addr[2:32] + 1), addr)),
            self.dbus.en.eq((x_fire | split_first) & is_load),
            self.dbus.we.eq(Mux((x_fire | split_first) & is_[Unit.STORE], lsu.strobe, 0)),
            self.dbus.wdata.eq(lsu.bus_wdata),
        ]

        # CSRs
        csr_src = Mux(c.csr_imm, rs1, rs1v)
        csr_wdata = Signal(32)
        with m.Switch(c.csr_op):
            with m.Case(1):
                m.d.comb += csr_wdata.eq(csr_src)
            with m.Case(2):
                m.d.comb += csr_wdata.eq(csr.rdata | csr_src)
            with m.Default():
                m.d.comb += csr_wdata.eq(csr.rdata & ~csr_src)
        sys_fire = x_fire & is_[Unit.SYSTEM]
        trap = sys_fire & ((c.sys_op == SysOp.ECALL) | (c.sys_op == SysOp.EBREAK))
        m.d.comb += [
            csr.addr.eq(c.imm[0:12]),
            csr.we.eq(x_fire & is_[Unit.CSR] & ((c.csr_op == 1) | (rs1 != 0))),
            csr.wdata.eq(csr_wdata),
            csr.trap.eq(trap),
            csr.trap_cause.eq(Mux(c.sys_op == SysOp.ECALL, 11, 3)),
            csr.trap_pc.eq(x_pc),
            csr.mret.eq(sys_fire & (c.sys_op == SysOp.MRET)),
            csr.tick.eq(booted & ~halted),
            csr.retire.eq(m_valid),
            csr.lp_start0.eq(hwl.start0), csr.lp_end0.eq(hwl.end0), csr.lp_count0.eq(hwl.count0),
            csr.lp_start1.eq(hwl.start1), csr.lp_end1.eq(hwl.end1), csr.lp_count1.eq(hwl.count1),
            self.cycle.eq(csr.cycle), self.instret.eq(csr.instret),
        ]

        # hardware loops: lp.* instructions and CSR writes
        hw = x_fire & is_[Unit.HWLOOP]
        op = c.hw_op
        m.d.comb += [
            hwl.f_pc.eq(f_pc), hwl.d_valid.eq(d_valid), hwl.d_pc.eq(d_pc),
            hwl.x_valid.eq(x_valid), hwl.x_pc.eq(x_pc), hwl.x_fire.eq(x_fire),
            hwl.w_level.eq(Mux(hw, x_word[7], csr.lp_w_level)),
            hwl.w_start_en.eq((hw & ((op == 0) | (op == 4) | (op == 5))) | csr.lp_w_start),
            hwl.w_end_en.eq((hw & ((op == 1) | (op == 4) | (op == 5))) | csr.lp_w_end),
            hwl.w_count_en.eq((hw & (op >= 2)) | csr.lp_w_count),
            hwl.w_start.eq(Mux(hw, Mux(op == 0, x_pc + c.imm, x_pc + 4), csr_wdata)),
            hwl.w_end.eq(Mux(hw, Mux(op == 5, x_pc + Cat(Const(0, 1), rs1), x_pc + c.imm), csr_wdata)),
            hwl.w_count.eq(Mux(hw, Mux((op == 3) | (op == 5), c.imm, rs1v), csr_wdata)),
        ]

        # control transfers, all resolved in X
        seq_next = Mux(hwl.x_loopback, hwl.x_start, x_pc + 4)
        with m.If(is_[Unit.JAL] | (is_[Unit.BRANCH] & cond)):
            m.d.comb += [redirect.eq(x_fire), redirect_pc.eq(x_pc + c.imm)]
        with m.Elif(is_[Unit.JALR]):
            m.d.comb += [redirect.eq(x_fire), redirect_pc.eq((rs1v + c.imm) & ~1)]
        with m.Elif(is_[Unit.SYSTEM] & (c.sys_op == SysOp.MRET)):
            m.d.comb += [redirect.eq(x_fire), redirect_pc.eq(csr.mepc)]
        with m.Elif(is_[Unit.SYSTEM] & (c.sys_op != SysOp.WFI)):
            m.d.comb += [redirect.eq(x_fire), redirect_pc.eq(csr.mtvec & ~3)]
        with m.Elif(c.flush & (~is_[Unit.CSR] | (c.csr_op == 1) | (rs1 != 0))):
            # CSR writes, hardware-loop writes, fence.i: refetch with the new state (CSR reads do not flush)
            m.d.comb += [redirect.eq(x_fire), redirect_pc.eq(seq_next)]

        # results
        result = Signal(32)
        with m.Switch(unit):
            with m.Case(Unit.MUL):
                m.d.comb += result.eq(mul.result)
            with m.Case(Unit.DIV):
                m.d.comb += result.eq(div.result)
            with m.Case(Unit.DOT, Unit.MLS):
                m.d.comb += result.eq(dotp.result)
            with m.Case(Unit.CSR):
                m.d.comb += result.eq(csr.rdata)
            with m.Default():
                m.d.comb += result.eq(alu.result)

        # stop conditions
        tohost_hit = x_fire & is_[Unit.STORE] & (addr[2:32] == self.tohost_addr[2:32]) & (st_value != 0)
        m.d.comb += halt_now.eq(x_error | tohost_hit)
        stop_pc = Signal(32)
        with m.If(halt_now & ~halted):
            m.d.sync += [halted.eq(1), self.error.eq(x_err), stop_pc.eq(Mux(x_error, x_pc, seq_next)),
                         self.tohost_value.eq(Mux(x_error, 0, st_value))]
        m.d.comb += self.stop_pc.eq(Mux(halted, stop_pc, x_pc))

        # ---- M ---------------------------------------------------------------------------------------------
        m_pc = Signal(32)
        m_insn = Signal(32)
        m_size = Signal(2)
        m_signed = Signal()
        m_addr_lo = Signal(2)
        m_pi_we = Signal()
        m_pi_reg = Signal(5)
        m_pi_value = Signal(32)
        m_st = Signal()
        m_st_addr = Signal(32)
        m_st_size = Signal(2)
        m_st_data = Signal(32)
        m_split = Signal()
        m_lo = Signal(32)
        with m.If(ma_second):
            m.d.sync += m_lo.eq(self.dbus.rdata)     # the first word, read in the previous cycle
        m.d.sync += [
            m_valid.eq(x_fire),
            m_rd_we.eq(x_fire & c.rd_we & (rd != 0)),
            m_nn_we.eq(x_fire & mls_load),
            m_st.eq(x_fire & is_[Unit.STORE]),
            m_pi_we.eq(x_fire & pi_we),
        ]
        with m.If(x_fire):
            m.d.sync += [
                m_pc.eq(x_pc), m_insn.eq(x_word), m_rd.eq(rd), m_result.eq(result),
                m_load.eq(is_[Unit.LOAD]), m_size.eq(c.mem_size), m_signed.eq(c.mem_signed), m_split.eq(split),
                m_addr_lo.eq(addr[0:2]), m_nn_idx.eq(mls_dst),
                m_pi_reg.eq(rs1), m_pi_value.eq(pi_value),
                m_st_addr.eq(addr), m_st_size.eq(c.mem_size), m_st_data.eq(st_value),
            ]
        m.d.comb += [lsu.m_rdata.eq(self.dbus.rdata), lsu.m_addr_lo.eq(m_addr_lo), lsu.m_size.eq(m_size),
                     lsu.m_signed.eq(m_signed), lsu.m_lo.eq(m_lo), lsu.m_split.eq(m_split)]

        # register-file writes: M's rd first, then X's post-increment (younger, wins on the same register)
        with m.If(m_rd_we):
            m.d.sync += rf[m_rd].eq(m_wb)
        with m.If(x_fire & pi_we):
            m.d.sync += rf[rs1].eq(pi_value)
        with m.If(m_nn_we):
            m.d.sync += nn[m_nn_idx].eq(self.dbus.rdata)

        cm = self.commit
        m.d.comb += [
            cm.valid.eq(m_valid), cm.pc.eq(m_pc), cm.insn.eq(m_insn),
            cm.rd_we.eq(m_rd_we), cm.rd.eq(m_rd), cm.rd_value.eq(m_wb),
            cm.pi_we.eq(m_pi_we), cm.pi_reg.eq(m_pi_reg), cm.pi_value.eq(m_pi_value),
            cm.nn_we.eq(m_nn_we), cm.nn_idx.eq(m_nn_idx), cm.nn_value.eq(self.dbus.rdata),
            cm.st.eq(m_st), cm.st_addr.eq(m_st_addr), cm.st_size.eq(Array([1, 2, 4, 4])[m_st_size]),
            cm.st_data.eq(m_st_data),
        ]
        return m
