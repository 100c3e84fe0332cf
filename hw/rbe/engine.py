"""RBE: the Reconfigurable Binary Engine (N_CORES Cores x 9 Blocks x 4 BinConvs), its streamer and registers.

Data flow (docs/rbe.md): RegFile -> Controller issues one weight word per cycle; the PatchLoader holds the
stationary input patch (double-buffered), the WeightStreamer turns bus beats into broadcast weight words,
NormParams serves kappa/lambda, the Cores accumulate, normalise and quantise, and Store streams finished
output tiles. The three readers share the memory port through :class:`hw.common.vme.VME`.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature, log2
from hw.common.regfile import RegisterFile
from hw.common.vme import VME
from sw.rbe.config import RBEConfig
from sw.rbe.regs import LAYER_FIELDS, REGS

from .controller import Controller
from .core import Core
from .norm_params import NormParams
from .patch_loader import PatchLoader
from .store import Store, TileTag
from .weight_streamer import WeightStreamer

__all__ = ["RBE", "LayerReg"]


def _layer_layout():
    fields, pos = {}, 0
    for n, (lsb, width) in sorted(LAYER_FIELDS.items(), key=lambda kv: kv[1][0]):
        if lsb > pos:
            fields[f"_pad{pos}"] = lsb - pos
        fields[n] = width
        pos = lsb + width
    fields["_pad_top"] = 32 - pos
    return data.StructLayout(fields)


#: The ``layer`` register as a layout (field positions from sw/rbe/regs.py).
LayerReg = _layer_layout()

# Counters that advance by one in cycles where the Controller's ``count_<name>`` output is high.
_CTRL_COUNTERS = ("compute_cycles", "offset_cycles", "weight_stall", "patch_stall", "out_stall", "passes")


class RBE(wiring.Component):
    """The engine.

    Parameters
    ----------
    cfg : RBEConfig

    Attributes
    ----------
    host : In(RegBusSignature)   32-bit configuration port (register block built from ``sw.rbe.regs.REGS``)
    mem : Out(MemBusSignature)   the wide load/store port (PORT_WIDTH bits)
    evt : Out(1)                 end-of-job event (one-cycle pulse)
    busy : Out(1)                a job is running
    finished : Out(1)            the last job has ended (level, cleared by the next start)
    """

    def __init__(self, cfg: RBEConfig):
        if not isinstance(cfg, RBEConfig):
            raise TypeError(f"cfg must be an RBEConfig, not {cfg!r}")
        self.cfg = cfg
        super().__init__({"host": In(RegBusSignature()), "mem": Out(MemBusSignature(cfg.PORT_WIDTH)),
                          "evt": Out(1), "busy": Out(1), "finished": Out(1)})

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        k, t, pm = cfg.k_tile, cfg.tile, cfg.patch_max
        lpb = log2(cfg.port_bytes)

        m.submodules.regs = regs = RegisterFile(REGS, addr_width=self.host.addr.shape().width)
        m.submodules.ctrl = ctrl = Controller(cfg)
        m.submodules.patch = patch = PatchLoader(cfg)
        m.submodules.weights = wst = WeightStreamer(cfg)
        m.submodules.params = params = NormParams(cfg)
        m.submodules.store = store = Store(cfg)
        m.submodules.vme = vme = VME(data_width=cfg.PORT_WIDTH, n_readers=3, max_in_flight=cfg.MAX_READS_IN_FLIGHT)
        wiring.connect(m, wiring.flipped(self.host), regs.host)
        wiring.connect(m, vme.mem, wiring.flipped(self.mem))
        wiring.connect(m, params.rd, vme.readers[0])
        wiring.connect(m, patch.rd, vme.readers[1])
        wiring.connect(m, wst.rd, vme.readers[2])
        wiring.connect(m, store.wr, vme.writer)

        # ---- job start and end ----------------------------------------------------------------------------
        # A start while a job runs is ignored by the engine. The job ends when the Controller is done; a job
        # refused at start (bad registers) ends the same way with the error bit set and error_code latched.
        start = Signal()
        finished, code_latched = Signal(), Signal(4)
        m.d.comb += start.eq(regs.launch & ~regs.running)
        m.d.comb += [self.busy.eq(regs.running), self.finished.eq(finished)]
        m.d.sync += self.evt.eq(regs.running & regs.finish)
        with m.If(start):
            m.d.sync += [finished.eq(0), code_latched.eq(0)]
        with m.If(regs.running & regs.finish):
            m.d.sync += finished.eq(1)

        # ---- job parameters from the registers ----------------------------------------------------------
        lay = LayerReg(regs.layer)
        mode_1x1 = lay.mode
        h_out, w_out = Signal(16), Signal(16)
        m.d.comb += [h_out.eq(Mux(mode_1x1, regs.height, regs.height - 2)),
                     w_out.eq(Mux(mode_1x1, regs.width, regs.width - 2))]
        n_q, n_qao = Signal(2), Signal(2)
        m.d.comb += [n_q.eq(Mux(lay.qa > 4, 2, 1)), n_qao.eq(Mux(lay.qao > 4, 2, 1))]
        words = Signal(16)                      # weight words per block
        m.d.comb += words.eq(Mux(mode_1x1, k, k * lay.qw))
        spb = cfg.slots_per_beat
        block_beats = Signal(16)
        pad_slots = Signal(8)
        m.d.comb += [block_beats.eq((words * cfg.word_slots + spb - 1) >> log2(spb)),
                     pad_slots.eq((block_beats << log2(spb)) - words * cfg.word_slots)]
        norm_beats = Signal(16)
        m.d.comb += norm_beats.eq((regs.k_out_tiles * (k * cfg.norm_bytes) + cfg.port_bytes - 1) >> lpb)

        bad = Signal()
        code = Signal(4)
        lcb = log2(cfg.chunk_bytes)
        aligned = (Cat(regs.w_base[:lpb], regs.norm_base[:lpb], regs.x_base[:lcb], regs.y_base[:lcb]) == 0)
        fs = Mux(mode_1x1, 1, 3)
        with m.If((lay.qa < 2) | (lay.qa > 8) | (lay.qw < 2) | (lay.qw > 8) | (lay.qao < 2) | (lay.qao > 8)):
            m.d.comb += code.eq(1)
        with m.Elif((regs.k_in_tiles == 0) | (regs.k_out_tiles == 0)
                    | (regs.k_in_tiles >= 1 << 12) | (regs.k_out_tiles >= 1 << 12)):
            m.d.comb += code.eq(2)
        with m.Elif(regs.k_out_tiles > cfg.MAX_K_OUT // k):
            m.d.comb += code.eq(3)
        with m.Elif((regs.height < fs) | (regs.width < fs) | (regs.height >= 1 << 16) | (regs.width >= 1 << 16)):
            m.d.comb += code.eq(4)
        with m.Elif(~aligned):
            m.d.comb += code.eq(5)
        m.d.comb += bad.eq(code != 0)
        with m.If(regs.running & regs.finish):
            m.d.sync += code_latched.eq(code)
        m.d.comb += [regs.error.eq(ctrl.done & bad), regs.error_code.eq(code_latched)]

        for unit in (ctrl, patch, wst):
            m.d.comb += [unit.h_out.eq(h_out), unit.w_out.eq(w_out), unit.n_kot.eq(regs.k_out_tiles),
                         unit.n_kit.eq(regs.k_in_tiles), unit.n_q.eq(n_q)]
        m.d.comb += [ctrl.start.eq(start), ctrl.bad.eq(bad), ctrl.mode_1x1.eq(mode_1x1),
                     ctrl.qa.eq(lay.qa), ctrl.qw.eq(lay.qw),
                     ctrl.patch_ready.eq(patch.ready), ctrl.params_loaded.eq(params.loaded),
                     ctrl.w_valid.eq(wst.valid), ctrl.stored.eq(store.stored),
                     regs.finish.eq(ctrl.done), regs.count_bin_ops.eq(ctrl.bin_ops_inc),
                     regs.count_bin_ops_peak.eq(ctrl.bin_ops_inc)]
        for name in _CTRL_COUNTERS:
            m.d.comb += getattr(regs, f"count_{name}").eq(getattr(ctrl, f"count_{name}"))
        m.d.comb += regs.count_store_writes.eq(store.wr.valid & store.wr.ready)
        m.d.comb += regs.debug.eq(Cat(patch.ready, params.loaded, wst.valid, store.idle, ctrl.inflight,
                                      Const(0, 2), ctrl.state))

        m.d.comb += [patch.restart.eq(ctrl.restart), patch.mode_1x1.eq(mode_1x1), patch.height.eq(regs.height),
                     patch.width.eq(regs.width), patch.x_base.eq(regs.x_base >> lcb), patch.release.eq(ctrl.release)]
        m.d.comb += [wst.restart.eq(ctrl.restart), wst.w_base.eq(regs.w_base >> lpb),
                     wst.block_beats.eq(block_beats), wst.pad_slots.eq(pad_slots),
                     wst.take.eq(ctrl.take), wst.block_end.eq(ctrl.block_end)]
        m.d.comb += [params.start.eq(ctrl.restart), params.base.eq(regs.norm_base >> lpb),
                     params.n_beats.eq(norm_beats)]
        m.d.comb += [store.h_out.eq(h_out), store.w_out.eq(w_out), store.n_qao.eq(n_qao),
                     store.y_base.eq(regs.y_base >> lcb)]

        # ---- the S0 -> S1 -> N1 -> N2 pipeline control ---------------------------------------------------
        s1 = {n: Signal(name=f"s1_{n}") for n in ("valid", "offset", "reset", "last")}
        s1_chan, s1_tag = Signal(range(k)), Signal(TileTag)
        m.d.sync += [s1["valid"].eq(ctrl.i_valid), s1["offset"].eq(ctrl.i_offset), s1["reset"].eq(ctrl.i_reset),
                     s1["last"].eq(ctrl.i_last & ctrl.i_valid), s1_chan.eq(ctrl.i_chan), s1_tag.eq(ctrl.i_tag)]
        n1_valid, n1_chan, n1_tag = Signal(), Signal(range(k)), Signal(TileTag)
        n2_valid, n2_chan, n2_tag = Signal(), Signal(range(k)), Signal(TileTag)
        m.d.sync += [n1_valid.eq(s1["last"]), n1_chan.eq(s1_chan), n1_tag.eq(s1_tag),
                     n2_valid.eq(n1_valid), n2_chan.eq(n1_chan), n2_tag.eq(n1_tag)]
        m.d.comb += params.chan.eq(s1_tag.kot * k + s1_chan)
        # The tile is complete one cycle after its last channel is written into the output buffer.
        m.d.sync += [store.done_valid.eq(n2_valid & (n2_chan == k - 1)), store.done_tag.eq(n2_tag)]

        # ---- the array ------------------------------------------------------------------------------------
        ones = Const((1 << k) - 1, k)
        for p in range(cfg.N_CORES):
            oh, ow = divmod(p, t)
            core = Core(cfg)
            m.submodules[f"core{p}"] = core
            for r in range(cfg.N_BLOCKS):
                fi, fj = divmod(r, 3)
                m.d.comb += core.x[r].eq(Mux(mode_1x1, patch.patch[oh * pm + ow],
                                             patch.patch[(oh + fi) * pm + ow + fj]))
                # Offset cycle: all-ones words on the Blocks of the mode (every tap; weight bit 0 in 1x1 mode).
                offset_word = ones if r == 0 else Mux(mode_1x1, 0, ones)
                m.d.comb += core.w[r].eq(Mux(ctrl.i_offset, offset_word, wst.word[r]))
            m.d.comb += [core.wbit.eq(ctrl.i_wbit), core.mode_1x1.eq(mode_1x1), core.upper.eq(ctrl.i_upper),
                         core.s1_valid.eq(s1["valid"]), core.s1_offset.eq(s1["offset"]),
                         core.s1_reset.eq(s1["reset"]), core.s1_chan.eq(s1_chan), core.qw.eq(lay.qw),
                         core.kappa.eq(params.kappa), core.lam.eq(params.lam), core.shift.eq(lay.shift),
                         core.qao.eq(lay.qao), core.relu.eq(lay.relu),
                         core.n2_valid.eq(n2_valid), core.n2_buf.eq(n2_tag.buf), core.n2_chan.eq(n2_chan),
                         core.rd_buf.eq(store.rd_buf), store.planes[p].eq(core.out_planes)]
        return m
