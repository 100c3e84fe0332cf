"""VCR: the host register block, at the upstream VTA offsets, plus accelgen's counters and diagnostics."""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import RegBusSignature

__all__ = ["VCR", "REGS"]

#: Register offsets. 0x00-0x24 are upstream VTA's; the rest are accelgen extensions (docs/vta.md).
REGS = {
    "control": 0x00,         # bit0 launch (write 1), bit1 finish, bit2 error
    "cycles": 0x04,          # cycles from launch to finish
    "insn_count": 0x08,
    "insn_base": 0x0C,
    "uop_base": 0x10, "inp_base": 0x14, "wgt_base": 0x18, "acc_base": 0x1C, "out_base": 0x20,
    "acc_writes": 0x24,      # accumulator writes by GEMM and ALU
    "load_busy": 0x28,       # cycles the load module executes an instruction
    "gemm_busy": 0x2C,
    "alu_busy": 0x30,
    "store_busy": 0x34,
    "compute_load_busy": 0x38,  # cycles compute spends in LOAD UOP/ACC
    "error_code": 0x3C,
    "error_index": 0x40,
    "fetch_status": 0x44,    # bits 2:0 waiting for room in load/compute/store queue, bit3 busy
    "load_status": 0x48,     # StatusLayout
    "compute_status": 0x4C,
    "store_status": 0x50,
    "tokens": 0x54,          # token counts l2c, c2l, c2s, s2c, a byte each (saturated at 255)
    "gemm_uops": 0x58,
    "alu_uops": 0x5C,
}
_WRITABLE = ("insn_count", "insn_base", "uop_base", "inp_base", "wgt_base", "acc_base", "out_base")
_COUNTERS = ("cycles", "acc_writes", "load_busy", "gemm_busy", "alu_busy", "store_busy", "compute_load_busy",
             "gemm_uops", "alu_uops")
_STATUS = ("error_code", "error_index", "fetch_status", "load_status", "compute_status", "store_status", "tokens")


class VCR(wiring.Component):
    """Host registers.

    Attributes
    ----------
    host : In(RegBusSignature)
    launch : Out(1)  one-cycle pulse when the host writes bit 0 of control.
    running : Out(1) from launch until finish or error.
    finish, error : In(1) from the core.
    <writable register> : Out(32)
    count_<counter> : In(1)  the counter advances in cycles where this is high (while running).
    <status> : In(32)
    """

    def __init__(self):
        members = {"host": In(RegBusSignature()), "launch": Out(1), "running": Out(1),
                   "finish": In(1), "error": In(1)}
        members.update({name: Out(32) for name in _WRITABLE})
        members.update({f"count_{name}": In(1) for name in _COUNTERS if name != "cycles"})
        members.update({name: In(32) for name in _STATUS})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        host = self.host
        counters = {name: Signal(32, name=f"{name}_counter") for name in _COUNTERS}
        done = Signal()
        failed = Signal()
        running = Signal()
        m.d.comb += self.running.eq(running)
        with m.If(running & self.finish):
            m.d.sync += [running.eq(0), done.eq(1)]
        with m.If(running & self.error):
            m.d.sync += [running.eq(0), failed.eq(1)]
        with m.If(running):
            m.d.sync += counters["cycles"].eq(counters["cycles"] + 1)
            for name in _COUNTERS:
                if name != "cycles":
                    with m.If(getattr(self, f"count_{name}")):
                        m.d.sync += counters[name].eq(counters[name] + 1)

        with m.If(host.w_stb):
            with m.Switch(host.addr):
                with m.Case(REGS["control"]):
                    with m.If(host.w_data[0]):
                        m.d.comb += self.launch.eq(1)
                        m.d.sync += [running.eq(1), done.eq(0), failed.eq(0)]
                        m.d.sync += [c.eq(0) for c in counters.values()]
                for name in _WRITABLE:
                    with m.Case(REGS[name]):
                        m.d.sync += getattr(self, name).eq(host.w_data)

        with m.Switch(host.addr):
            with m.Case(REGS["control"]):
                m.d.comb += host.r_data.eq(running | (done << 1) | (failed << 2))
            for name in _WRITABLE:
                with m.Case(REGS[name]):
                    m.d.comb += host.r_data.eq(getattr(self, name))
            for name in _COUNTERS:
                with m.Case(REGS[name]):
                    m.d.comb += host.r_data.eq(counters[name])
            for name in _STATUS:
                with m.Case(REGS[name]):
                    m.d.comb += host.r_data.eq(getattr(self, name))
        return m
