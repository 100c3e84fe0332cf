"""Systolic: the weight-stationary engine (array, feeders, memories, sequencer, DMA) behind host registers.

The host registers are the table of :mod:`sw.systolic.regs` (``register_map(cfg)``), built by the one register
block, :class:`hw.common.regfile.RegisterFile`: write the descriptor (or the DMA command), set ``target``
(0 array, 1 DMA), write 1 to ``ctrl``. The ``done`` output rises when the array or the DMA finishes and stays
high until the next start.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature
from hw.common.regfile import RegisterFile
from sw.systolic.config import SystolicConfig
from sw.systolic.regs import DESCRIPTOR_FIELDS, DMA_FIELDS, GAP_MAX, TARGET_DMA, register_map

from .accumulator import Accumulator, ColumnCtrl
from .array import SystolicArray
from .deserializer import Deserializer
from .dma import DMA
from .sequencer import Sequencer, issue_layout
from .serializer import Serializer
from .vector_memory import VectorMemory

__all__ = ["Systolic"]


def _popcount(bits):
    return sum(bits[i] for i in range(len(bits))) if len(bits) else Const(0)


class Systolic(wiring.Component):
    """The engine: ``R x C`` PEs, ``max(R, C)`` vector memories, R weight banks, C accumulators.

    Parameters
    ----------
    cfg : SystolicConfig

    Attributes
    ----------
    host : In(RegBusSignature(8, 32))
        Register port (map in the module docstring).
    mem : Out(MemBusSignature(cfg.bus_width))
        DRAM master of the DMA.
    done : Out(1)
        The last started operation has finished.
    """

    def __init__(self, cfg: SystolicConfig):
        if not isinstance(cfg, SystolicConfig):
            raise TypeError(f"cfg must be a SystolicConfig, not {cfg!r}")
        self.cfg = cfg
        super().__init__({
            "host": In(RegBusSignature(8, 32)),
            "mem": Out(MemBusSignature(cfg.bus_width)),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        R, C, NM = cfg.R, cfg.C, cfg.n_mems

        m.submodules.array = array = SystolicArray(cfg)
        m.submodules.sequencer = seq = Sequencer(cfg, drain=cfg.drain)
        m.submodules.dma = dma = DMA(cfg)
        wiring.connect(m, wiring.flipped(self.mem), dma.bus)
        vmems = [VectorMemory(cfg) for _ in range(NM)]
        for i, vm in enumerate(vmems):
            m.submodules[f"vmem{i}"] = vm
        sers = [Serializer(cfg) for _ in range(R)]
        accs = [Accumulator(cfg) for _ in range(C)]
        desers = [Deserializer(cfg) for _ in range(C)]
        for i in range(R):
            m.submodules[f"ser{i}"] = sers[i]
        for i in range(C):
            m.submodules[f"acc{i}"] = accs[i]
            m.submodules[f"deser{i}"] = desers[i]

        # --- host registers ---------------------------------------------------------------------------
        m.submodules.regs = regs = RegisterFile(register_map(cfg), addr_width=self.host.addr.shape().width)
        wiring.connect(m, wiring.flipped(self.host), regs.host)
        desc = Signal(seq.desc.shape())
        dcmd = Signal(dma.cmd.shape())
        error = Signal()
        start_array = Signal()
        start_dma = Signal()
        m.d.comb += [start_array.eq(regs.launch & (regs.target != TARGET_DMA)),
                     start_dma.eq(regs.launch & (regs.target == TARGET_DMA))]
        m.d.comb += [getattr(desc, f).eq(getattr(regs, f)) for f in DESCRIPTOR_FIELDS]
        dma_regs = {f: getattr(regs, f"dma_{f}") for f in DMA_FIELDS}
        m.d.comb += [dcmd.dram_addr.eq(dma_regs["dram_addr"]), dcmd.words.eq(dma_regs["words"]),
                     dcmd.n_mems.eq(dma_regs["n_mems"]), dcmd.mem_addr.eq(dma_regs["mem_addr"]),
                     dcmd.weights.eq(dma_regs["flags"][0]), dcmd.store.eq(dma_regs["flags"][1])]
        # An array run that lost a de-serializer word ends with the error bit set.
        lost = Signal()
        m.d.comb += [regs.finish.eq(seq.done | dma.done), regs.error.eq(seq.done & lost),
                     regs.busy.eq(Cat(seq.busy, dma.busy))]

        m.d.comb += [seq.start.eq(start_array), seq.desc.eq(desc), dma.start.eq(start_dma), dma.cmd.eq(dcmd)]
        with m.If(start_array | start_dma):
            m.d.sync += self.done.eq(0)
        with m.Elif(seq.done | dma.done):
            m.d.sync += self.done.eq(1)

        # --- row feeders: the issue record skewed by one cycle per row ----------------------------------
        ilay = issue_layout(cfg)
        row_ctrl = [Signal(ilay, name=f"row_ctrl{r}") for r in range(R)]
        m.d.sync += row_ctrl[0].eq(seq.issue)
        for r in range(1, R):
            m.d.sync += row_ctrl[r].eq(row_ctrl[r - 1])
        at_pe = []              # per row: the record aligned with the operand entering PE (r, 0)
        banks = []
        for r in range(R):
            rc = row_ctrl[r]
            vm = vmems[r]
            m.d.comb += [vm.rd.eq(rc.rd), vm.rd_addr.eq(rc.addr)]
            loaded = Signal(name=f"loaded{r}")
            m.d.sync += loaded.eq(rc.rd)
            m.d.comb += [sers[r].word.eq(vm.rdata), sers[r].load.eq(loaded)]
            d1 = Signal(ilay, name=f"row{r}_d1")
            d2 = Signal(ilay, name=f"row{r}_d2")
            m.d.sync += [d1.eq(rc), d2.eq(d1)]
            at_pe.append(d2)
            m.d.comb += [array.a[r].eq(sers[r].elem), array.swap[r].eq(d2.swap)]

            # Weight bank r: the next fold's row is read when that fold's first position passes this row's
            # feeder, two cycles before it reaches PE (r, 0).
            bank = Memory(shape=cfg.wgt_word_bits, depth=cfg.WGT_DEPTH, init=[])
            m.submodules[f"wbank{r}"] = bank
            brp = bank.read_port()
            bwp = bank.write_port()
            banks.append(bwp)
            wptr = Signal(cfg.wgt_addr_bits, name=f"wptr{r}")
            with m.If(start_array):
                m.d.sync += wptr.eq(0)
            with m.Elif(rc.preload):
                m.d.sync += wptr.eq(wptr + 1)
            m.d.comb += [brp.addr.eq(wptr), brp.en.eq(1)]
            pre_d = Signal(name=f"preload_d{r}")
            m.d.sync += pre_d.eq(rc.preload)
            m.d.comb += [array.w_load[r].eq(pre_d), array.w_data[r].eq(brp.data)]
            m.d.comb += [bwp.en.eq(dma.we & dcmd.weights & (dma.sel == r)), bwp.addr.eq(dma.addr),
                         bwp.data.eq(dma.wdata)]

        # --- columns: control from row R-1, one cycle later per column ---------------------------------
        last_row = at_pe[R - 1]
        pre = Signal(ColumnCtrl, name="col_pre0")
        m.d.comb += [pre.valid.eq(last_row.valid), pre.swap.eq(last_row.swap), pre.first.eq(last_row.first),
                     pre.last.eq(last_row.last)]
        for c in range(C):
            acc, ds = accs[c], desers[c]
            m.d.comb += [acc.pre.eq(pre), acc.psum.eq(array.psum[c])]
            nxt = Signal(ColumnCtrl, name=f"col_pre{c + 1}")
            m.d.sync += nxt.eq(pre)
            pre = nxt
            m.d.comb += [ds.start.eq(start_array), ds.valid.eq(acc.out_valid), ds.value.eq(acc.out_value),
                         ds.fold_start.eq(acc.out_fold_start), ds.out_base.eq(desc.out_base),
                         ds.out_co_stride.eq(desc.out_co_stride)]
            vm = vmems[c]
            m.d.comb += [vm.wr_valid.eq(ds.wr_valid), vm.wr_addr.eq(ds.wr_addr), vm.wr_data.eq(ds.wr_data)]

        # --- DMA access to the vector memories ------------------------------------------------------------
        rdata = Signal(cfg.bus_width)
        for i, vm in enumerate(vmems):
            m.d.comb += [vm.dma_addr.eq(dma.addr), vm.dma_we.eq(dma.we & ~dcmd.weights & (dma.sel == i)),
                         vm.dma_wdata.eq(dma.wdata)]
            with m.If(dma.sel == i):
                m.d.comb += rdata.eq(vm.rdata)
        m.d.comb += dma.rdata.eq(rdata)

        # --- counters (kept in the register block; they add while a started operation runs) ---------------
        reads = Cat(vm.rd for vm in vmems)
        busy_rows = Cat(at_pe[r].valid for r in range(R))
        overflow = Cat(vm.overflow for vm in vmems).any()
        m.d.comb += lost.eq(error | overflow)
        m.d.comb += [
            regs.count_pe_busy.eq(_popcount(busy_rows) * C),
            regs.count_mem_reads.eq(_popcount(reads)),
            regs.count_mem_writes.eq(_popcount(Cat(vm.wrote for vm in vmems))),
            regs.count_port_conflicts.eq(_popcount(Cat(vm.conflict for vm in vmems))),
            regs.count_wgt_reads.eq(_popcount(Cat(rc.preload for rc in row_ctrl))),
            regs.count_acc_writes.eq(_popcount(Cat(a.pre.valid & ~a.pre.last for a in accs))),
            regs.count_results.eq(_popcount(Cat(a.out_valid for a in accs))),
            regs.count_cycles.eq(seq.busy),
            regs.count_dma_cycles.eq(dma.busy),
        ]

        # --- the read-gap word (a minimum: kept in the engine, read as a status word) ------------------------
        gaps = [Signal(range(GAP_MAX + 1), name=f"gap{r}") for r in range(R)]
        seen = [Signal(name=f"seen{r}") for r in range(R)]
        min_gap = Signal(32, name="min_read_gap")
        m.d.comb += regs.min_read_gap.eq(min_gap)
        candidates = []
        for r in range(R):
            # Registered: a read enable comes out of the sequencer's control logic late in the cycle.
            cand = Signal(range(GAP_MAX + 1), name=f"gap_cand{r}", init=GAP_MAX)
            m.d.sync += cand.eq(Mux(vmems[r].rd & seen[r], gaps[r], GAP_MAX))
            candidates.append(cand)
        # A balanced tree over the rows, registered, then folded into the running minimum the next cycle:
        # a chain of R compares was the array's critical path on the ECP5 (19.7 ns at R = 8). The word
        # lags by two cycles, long before the host can read it.
        level = candidates
        while len(level) > 1:
            nxt = []
            for i in range(0, len(level), 2):
                if i + 1 == len(level):
                    nxt.append(level[i])
                    continue
                stage = Signal(range(GAP_MAX + 1), name=f"gap_min_l{len(level)}_{i // 2}")
                m.d.comb += stage.eq(Mux(level[i] < level[i + 1], level[i], level[i + 1]))
                nxt.append(stage)
            level = nxt
        cycle_min = Signal(range(GAP_MAX + 1), init=GAP_MAX)
        new_min = Signal(range(GAP_MAX + 1), name="gap_min")
        m.d.comb += new_min.eq(Mux(cycle_min < min_gap, cycle_min, min_gap))
        with m.If(start_array):
            m.d.sync += [min_gap.eq(GAP_MAX), cycle_min.eq(GAP_MAX), error.eq(0)]
            m.d.sync += [c.eq(GAP_MAX) for c in candidates]
            m.d.sync += [s.eq(0) for s in seen]
        with m.Else():
            m.d.sync += [cycle_min.eq(level[0]), min_gap.eq(new_min)]
            for r in range(R):
                with m.If(vmems[r].rd):
                    m.d.sync += [gaps[r].eq(1), seen[r].eq(1)]
                with m.Elif(gaps[r] != GAP_MAX):
                    m.d.sync += gaps[r].eq(gaps[r] + 1)
            with m.If(overflow):
                m.d.sync += error.eq(1)
        return m
