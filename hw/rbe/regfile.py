"""RegFile: the RBE's register-mapped job configuration, counters and end-of-job event (map in sw/rbe/regs.py)."""

from amaranth.hdl import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import RegBusSignature
from sw.rbe.regs import COUNTERS, LAYER_FIELDS, REGS, STATUS_BUSY, STATUS_DONE, STATUS_ERROR, WRITABLE

__all__ = ["RegFile", "LayerReg"]

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

# Counters that advance by one in cycles where their ``count_<name>`` input is high.
_UNIT_COUNTERS = ("compute_cycles", "offset_cycles", "weight_stall", "patch_stall", "store_writes", "passes",
                  "out_stall")


class RegFile(wiring.Component):
    """Host registers.

    Attributes
    ----------
    host : In(RegBusSignature)
    start : Out(1)           one-cycle pulse: the host wrote 1 to bit 0 of ``control``
    busy : Out(1)            from start to the end-of-job event
    done, error : In(1)      end of the job (``error`` with ``error_code``: refused at start)
    error_code : In(4)
    debug : In(32)           read-only diagnostics (what the array waits on)
    evt : Out(1)             end-of-job event: one-cycle pulse the cycle after ``done``
    finished : Out(1)        level: the last job ended (until the next start)
    layer : Out(LayerReg); <other writable register> : Out(32)
    count_<counter> : In(1); bin_ops_inc : In(24)   per-cycle counter increments
    """

    def __init__(self):
        members = {"host": In(RegBusSignature()), "start": Out(1), "busy": Out(1), "done": In(1), "error": In(1),
                   "error_code": In(4), "debug": In(32), "evt": Out(1), "finished": Out(1), "layer": Out(LayerReg)}
        members.update({name: Out(32) for name in WRITABLE if name != "layer"})
        members.update({f"count_{name}": In(1) for name in _UNIT_COUNTERS})
        members["bin_ops_inc"] = In(24)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        host = self.host
        cnt = {name: Signal(32, name=f"{name}_counter") for name in COUNTERS}
        bin_ops = Signal(64)
        done, failed, busy = Signal(), Signal(), Signal()
        code = Signal(4)
        m.d.comb += [self.busy.eq(busy), self.finished.eq(done)]
        m.d.sync += self.evt.eq(busy & self.done)
        with m.If(busy & self.done):
            m.d.sync += [busy.eq(0), done.eq(1), failed.eq(self.error), code.eq(self.error_code)]
        with m.If(busy):
            m.d.sync += [cnt["cycles"].eq(cnt["cycles"] + 1), bin_ops.eq(bin_ops + self.bin_ops_inc)]
            with m.If(self.bin_ops_inc > cnt["bin_ops_peak"]):
                m.d.sync += cnt["bin_ops_peak"].eq(self.bin_ops_inc)
            for name in _UNIT_COUNTERS:
                with m.If(getattr(self, f"count_{name}")):
                    m.d.sync += cnt[name].eq(cnt[name] + 1)

        regs = {name: getattr(self, name) for name in WRITABLE}
        with m.If(host.w_stb):
            with m.Switch(host.addr):
                with m.Case(REGS["control"]):
                    with m.If(host.w_data[0] & ~busy):
                        m.d.comb += self.start.eq(1)
                        m.d.sync += [busy.eq(1), done.eq(0), failed.eq(0), code.eq(0), bin_ops.eq(0)]
                        m.d.sync += [c.eq(0) for c in cnt.values()]
                for name, reg in regs.items():
                    with m.Case(REGS[name]):
                        m.d.sync += reg.as_value().eq(host.w_data) if name == "layer" else reg.eq(host.w_data)

        with m.Switch(host.addr):
            with m.Case(REGS["control"]):
                m.d.comb += host.r_data.eq(busy * STATUS_BUSY | done * STATUS_DONE | failed * STATUS_ERROR)
            with m.Case(REGS["error_code"]):
                m.d.comb += host.r_data.eq(code)
            with m.Case(REGS["debug"]):
                m.d.comb += host.r_data.eq(self.debug)
            for name, reg in regs.items():
                with m.Case(REGS[name]):
                    m.d.comb += host.r_data.eq(reg.as_value() if name == "layer" else reg)
            for name in COUNTERS:
                with m.Case(REGS[name]):
                    value = {"bin_ops_lo": bin_ops[:32], "bin_ops_hi": bin_ops[32:]}.get(name, cnt[name])
                    m.d.comb += host.r_data.eq(value)
        return m
