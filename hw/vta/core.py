"""VTA: the whole accelerator (Fetch, Load, Compute, Store, dependency queues, VME, host registers)."""

from amaranth.hdl import Cat, Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature
from hw.common.regfile import RegisterFile
from hw.common.vme import VME
from sw.vta.config import VTAConfig
from sw.vta.regs import ADDR_WIDTH, REGS
from .compute import Compute
from .dep_queue import DepQueue
from .fetch import Fetch, FetchError
from .load import Load
from .store import Store
from .layouts import TraceWriteLayout

__all__ = ["VTA"]


class VTA(wiring.Component):
    """A VTA generated from one :class:`~sw.vta.config.VTAConfig`.

    Attributes
    ----------
    host : In(RegBusSignature)  host registers (VCR), built from the table :data:`sw.vta.regs.REGS`.
    mem : Out(MemBusSignature)  the memory master, ``cfg.BUS_WIDTH`` bits wide.
    finish : Out(1)             the run reached FINISH.
    error : Out(1)              the run stopped on a bad instruction (registers error_code/error_index).
    trace_inp, trace_wgt, trace_uop, trace_acc : Out  with ``trace=True`` only (simulation builds for
        ``accelgen trace diff``): every scratchpad write, plus ``trace_load_index``/``trace_compute_index``,
        the instruction each module is executing.
    """

    def __init__(self, cfg: VTAConfig, *, trace: bool = False):
        if not isinstance(cfg, VTAConfig):
            raise TypeError(f"cfg must be a VTAConfig, not {cfg!r}")
        self.cfg = cfg
        self.trace = trace
        extra = {}
        if trace:
            extra = {"trace_inp": Out(TraceWriteLayout(cfg.log_inp_depth, cfg.inp_elem_bits)),
                     "trace_wgt": Out(TraceWriteLayout(cfg.log_wgt_depth, cfg.wgt_elem_bits)),
                     "trace_uop": Out(TraceWriteLayout(cfg.log_uop_depth, 32)),
                     "trace_acc": Out(TraceWriteLayout(cfg.log_acc_depth, cfg.acc_elem_bits)),
                     "trace_load_index": Out(24), "trace_compute_index": Out(24)}
        super().__init__({**extra,
            "host": In(RegBusSignature(ADDR_WIDTH)),
            "mem": Out(MemBusSignature(cfg.BUS_WIDTH)),
            "finish": Out(1),
            "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.vcr = vcr = RegisterFile(REGS, addr_width=ADDR_WIDTH)
        m.submodules.fetch = fetch = Fetch(cfg)
        m.submodules.load = load = Load(cfg, trace=self.trace)
        m.submodules.compute = compute = Compute(cfg, trace=self.trace)
        m.submodules.store = store = Store(cfg)
        queues = {}
        for name in ("l2c", "c2l", "c2s", "s2c"):
            queues[name] = m.submodules[f"dep_{name}"] = DepQueue(cfg.TOKEN_QUEUE_DEPTH)
        l2c, c2l, c2s, s2c = (queues[n] for n in ("l2c", "c2l", "c2s", "s2c"))
        m.submodules.vme = vme = VME(data_width=cfg.BUS_WIDTH, n_readers=6, max_in_flight=cfg.MAX_READS_IN_FLIGHT)

        wiring.connect(m, wiring.flipped(self.host), vcr.host)
        wiring.connect(m, vme.mem, wiring.flipped(self.mem))
        for i, port in enumerate((fetch.port, compute.uop_port, compute.acc_port, compute.acc8_port,
                                  load.wgt_port, load.inp_port)):
            wiring.connect(m, port, vme.readers[i])
        wiring.connect(m, store.wr, vme.writer)
        wiring.connect(m, fetch.load_q, load.insn)
        wiring.connect(m, fetch.compute_q, compute.insn)
        wiring.connect(m, fetch.store_q, store.insn)

        m.d.comb += [
            fetch.start.eq(vcr.launch), fetch.base.eq(vcr.insn_base), fetch.count.eq(vcr.insn_count),
            load.inp_base.eq(vcr.inp_base), load.wgt_base.eq(vcr.wgt_base),
            compute.uop_base.eq(vcr.uop_base), compute.acc_base.eq(vcr.acc_base),
            store.out_base.eq(vcr.out_base),
            # scratchpad reads across modules
            load.inp_rd_addr.eq(compute.inp_rd_addr), compute.inp_rd_data.eq(load.inp_rd_data),
            load.wgt_rd_addr.eq(compute.wgt_rd_addr), compute.wgt_rd_data.eq(load.wgt_rd_data),
            compute.store_acc_addr.eq(store.acc_addr), store.acc_data.eq(compute.store_acc_data),
            # dependency tokens
            load.next_ready.eq(c2l.ready), c2l.pop.eq(load.pop_next),
            load.next_room.eq(l2c.room), l2c.push.eq(load.push_next),
            compute.prev_ready.eq(l2c.ready), l2c.pop.eq(compute.pop_prev),
            compute.prev_room.eq(c2l.room), c2l.push.eq(compute.push_prev),
            compute.next_ready.eq(s2c.ready), s2c.pop.eq(compute.pop_next),
            compute.next_room.eq(c2s.room), c2s.push.eq(compute.push_next),
            store.prev_ready.eq(c2s.ready), c2s.pop.eq(store.pop_prev),
            store.prev_room.eq(s2c.room), s2c.push.eq(store.push_prev),
        ]

        if self.trace:
            for name in ("inp", "wgt"):
                m.d.comb += getattr(self, f"trace_{name}").eq(getattr(load, f"trace_{name}"))
            for name in ("uop", "acc"):
                m.d.comb += getattr(self, f"trace_{name}").eq(getattr(compute, f"trace_{name}"))
            m.d.comb += [self.trace_load_index.eq(load.status.index),
                         self.trace_compute_index.eq(compute.status.index)]

        error = fetch.error | compute.error
        m.d.comb += [
            self.finish.eq(compute.finish), self.error.eq(error),
            vcr.finish.eq(compute.finish), vcr.error.eq(error),
            vcr.error_code.eq(Mux(fetch.error, fetch.error_code, Mux(compute.error, FetchError.INDEX, 0))),
            vcr.error_index.eq(Mux(fetch.error, fetch.error_index, compute.error_index)),
            vcr.fetch_status.eq(Cat(fetch.blocked, fetch.busy)),
            vcr.load_status.eq(load.status), vcr.compute_status.eq(compute.status),
            vcr.store_status.eq(store.status),
            vcr.tokens.eq(Cat(*[Mux(q.count > 255, 255, q.count)[:8] for q in (l2c, c2l, c2s, s2c)])),
            vcr.count_acc_writes.eq(compute.acc_write),
            vcr.count_load_busy.eq(load.busy),
            vcr.count_gemm_busy.eq(compute.gemm_busy),
            vcr.count_alu_busy.eq(compute.alu_busy),
            vcr.count_store_busy.eq(store.busy),
            vcr.count_compute_load_busy.eq(compute.load_busy),
            vcr.count_gemm_uops.eq(compute.acc_write & compute.gemm_busy),
            vcr.count_alu_uops.eq(compute.acc_write & compute.alu_busy),
        ]
        return m
