"""AccForward: registered accumulator reads with explicit forwarding from the in-flight writes."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AccForward"]


class AccForward(wiring.Component):
    """Read ports of the accumulator scratchpad with a latency of two cycles and no read-after-write hazard.

    A read issued in cycle ``t`` (``rd{i}_addr``) returns in cycle ``t+2`` (``rd{i}_data``) the entry as it is
    at the start of cycle ``t+2``, i.e. including every write up to and including cycle ``t+1``.
    The block-RAM read ports are not transparent (ECP5 block RAMs have no cross-port transparency, and the
    bypass yosys builds for it sits on the critical path), so the RAM output misses the writes of cycles ``t``
    and ``t+1``. Their address matches are computed in cycle ``t+1`` from registered addresses and registered;
    in ``t+2`` the data comes from the newest matching write (kept in a two-deep write history), else from the
    registered RAM output. The path from the RAM output ends in a register, and the consumer sees
    register -> one 3:1 mux -> its arithmetic.

    Parameters
    ----------
    addr_bits, data_bits : int
        Accumulator index and entry widths.
    ports : int
        Number of read ports (all observe the one write port).

    Attributes
    ----------
    rd{i}_addr : In(addr_bits)   read address, cycle t.
    rd{i}_data : Out(data_bits)  forwarded data, cycle t+2.
    rd{i}_imm : In(data_bits); rd{i}_use_imm : In(1)   with ``use_imm`` (held for the whole instruction),
        ``rd{i}_data`` is ``rd{i}_imm`` instead; folding the ALU immediate in here keeps the consumer's
        operand mux at 3:1.
    mem{i}_addr : Out(addr_bits); mem{i}_data : In(data_bits)  the non-transparent RAM read port
        (data the cycle after the address).
    wr_en, wr_addr, wr_data : In   the accumulator's write port, as presented to the RAM.
    """

    def __init__(self, *, addr_bits, data_bits, ports):
        if ports < 1:
            raise ValueError(f"ports must be >= 1, not {ports!r}")
        self.ports = ports
        members = {"wr_en": In(1), "wr_addr": In(addr_bits), "wr_data": In(data_bits)}
        for i in range(ports):
            members.update({f"rd{i}_addr": In(addr_bits), f"rd{i}_data": Out(data_bits),
                            f"rd{i}_imm": In(data_bits), f"rd{i}_use_imm": In(1),
                            f"mem{i}_addr": Out(addr_bits), f"mem{i}_data": In(data_bits)})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        # Write history: h1 = the write of the previous cycle, h2 = the one before.
        h1_en = Signal(name="h1_en")
        h1_addr = Signal.like(self.wr_addr, name="h1_addr")
        h1_data = Signal.like(self.wr_data, name="h1_data")
        h2_data = Signal.like(self.wr_data, name="h2_data")
        m.d.sync += [h1_en.eq(self.wr_en), h1_addr.eq(self.wr_addr), h1_data.eq(self.wr_data), h2_data.eq(h1_data)]
        for i in range(self.ports):
            addr, out = getattr(self, f"rd{i}_addr"), getattr(self, f"rd{i}_data")
            m.d.comb += getattr(self, f"mem{i}_addr").eq(addr)
            a1 = Signal.like(addr, name=f"rd{i}_a1")
            raw = Signal.like(out, name=f"rd{i}_raw")
            # In t+1: hit_new = the write of t+1 (h1 in t+2), hit_old = the write of t (h2 in t+2).
            hit_new, hit_old = Signal(name=f"rd{i}_hit_new"), Signal(name=f"rd{i}_hit_old")
            use_imm = getattr(self, f"rd{i}_use_imm")
            m.d.sync += [
                a1.eq(addr),
                raw.eq(Mux(use_imm, getattr(self, f"rd{i}_imm"), getattr(self, f"mem{i}_data"))),
                hit_new.eq(~use_imm & self.wr_en & (self.wr_addr == a1)),
                hit_old.eq(~use_imm & h1_en & (h1_addr == a1)),
            ]
            m.d.comb += out.eq(Mux(hit_new, h1_data, Mux(hit_old, h2_data, raw)))
        return m
