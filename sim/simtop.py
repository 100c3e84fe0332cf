"""Simulation top: an engine plus the Verilog simulation DRAM (``sim/models/accelgen_dram.v``).

:class:`SimTop` wraps any engine whose signature has a ``"mem"`` member of type
:class:`hw.common.bus.MemBusSignature` (driven by the engine). The DRAM model answers that bus; every
other member of the engine's signature becomes a port of the top with the same flattened name
(``host__addr``, ``host__w_data``, ...), plus the DRAM control/status ports:

============== ===== ===============================================================
port           dir   meaning
============== ===== ===============================================================
dram_latency   in 16 cycles from read-request acceptance to its first beat (>= 1)
dram_load      in 1  ``$readmemh(+ACCELGEN_DRAM_IN)`` on an edge where it is 1
dram_dump      in 1  ``$writememh(+ACCELGEN_DRAM_OUT)`` on an edge where it is 1
dram_dump_words in 32 number of words ``dram_dump`` writes
dram_oob       out 1 sticky: the engine accessed a word beyond the DRAM depth
dram_rd_beats  out 32 read beats returned since reset
dram_wr_beats  out 32 write beats accepted since reset
============== ===== ===============================================================
"""

from pathlib import Path

from amaranth.hdl import ClockSignal, Instance, Module, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import BURST_LEN_BITS, MemBusSignature

__all__ = ["SimTop", "DRAM_MODEL", "DRAM_PORTS"]

#: Path of the Verilog DRAM model that every :class:`SimTop` instantiates.
DRAM_MODEL = Path(__file__).resolve().parent / "models" / "accelgen_dram.v"

#: The DRAM control/status members that :class:`SimTop` adds to the engine's members.
DRAM_PORTS = {
    "dram_latency": In(16),
    "dram_load": In(1),
    "dram_dump": In(1),
    "dram_dump_words": In(32),
    "dram_oob": Out(1),
    "dram_rd_beats": Out(32),
    "dram_wr_beats": Out(32),
}

#: Read bursts the DRAM model accepts before it stops taking requests.
DRAM_QUEUE = 32


class SimTop(wiring.Component):
    """An engine connected to the simulation DRAM, as one Verilog top for Verilator.

    Parameters
    ----------
    dut : wiring.Component
        The engine. Its signature must have a member ``"mem"`` that is
        ``Out(MemBusSignature(w))`` (the engine issues the requests).
    dram_depth_log2 : int
        Log2 of the number of bus words the DRAM stores (default ``2**24`` words). Accesses beyond it
        read as 0 / are dropped and set ``dram_oob``.

    Attributes
    ----------
    dut : wiring.Component
        The wrapped engine (instantiated as submodule ``dut``).
    data_width : int
        Bus width in bits.
    dram_depth_log2 : int
        As given.

    Raises
    ------
    TypeError
        If ``dut`` is not a ``wiring.Component`` or has no suitable ``"mem"`` member.
    ValueError
        If ``dram_depth_log2`` is out of range, or a member of ``dut`` clashes with a DRAM port name.
    """

    def __init__(self, dut, *, dram_depth_log2=24):
        if not isinstance(dut, wiring.Component):
            raise TypeError(f"dut must be a wiring.Component, not {dut!r}")
        members = dut.signature.members
        if "mem" not in members:
            raise TypeError(f"dut signature has no member named 'mem': {dut.signature!r}")
        mem = members["mem"]
        if not (mem.is_signature and isinstance(mem.signature, MemBusSignature)
                and mem.flow == wiring.Out):
            raise TypeError(f"dut member 'mem' must be Out(MemBusSignature(...)), not {mem!r}")
        if not isinstance(dram_depth_log2, int) or not 1 <= dram_depth_log2 <= 30:
            raise ValueError(f"dram_depth_log2 must be an integer from 1 to 30, not {dram_depth_log2!r}")
        self.dut = dut
        self.data_width = mem.signature.data_width
        self.addr_width = mem.signature.addr_width
        self.dram_depth_log2 = dram_depth_log2

        ports = {}
        for name, member in members.items():
            if name == "mem":
                continue
            if name in DRAM_PORTS or name in ("clk", "rst"):
                raise ValueError(f"dut member {name!r} clashes with a port of SimTop")
            ports[name] = member
        ports.update(DRAM_PORTS)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut

        # Every member except "mem": pass through, in the direction the engine declares.
        mine = {path: value for path, _, value in self.signature.flatten(self)}
        for path, member, dut_value in dut.signature.flatten(dut):
            if path[0] == "mem":
                continue
            top_value = mine[path]
            if member.flow == wiring.In:
                m.d.comb += dut_value.eq(top_value)
            else:
                m.d.comb += top_value.eq(dut_value)

        bus = dut.mem
        m.submodules.dram = Instance(
            "accelgen_dram",
            p_DATA_W=self.data_width,
            p_ADDR_W=self.addr_width,
            p_DEPTH_LOG2=self.dram_depth_log2,
            p_LEN_W=BURST_LEN_BITS,
            p_QUEUE=DRAM_QUEUE,
            i_clk=ClockSignal(),
            i_rst=ResetSignal(),
            i_rd_req_valid=bus.rd_req.valid,
            o_rd_req_ready=bus.rd_req.ready,
            i_rd_req_addr=bus.rd_req.payload.addr,
            i_rd_req_len=bus.rd_req.payload.len,
            o_rd_resp_valid=bus.rd_resp.valid,
            i_rd_resp_ready=bus.rd_resp.ready,
            o_rd_resp_data=bus.rd_resp.payload.data,
            o_rd_resp_last=bus.rd_resp.payload.last,
            i_wr_valid=bus.wr.valid,
            o_wr_ready=bus.wr.ready,
            i_wr_addr=bus.wr.payload.addr,
            i_wr_data=bus.wr.payload.data,
            i_wr_strb=bus.wr.payload.strb,
            i_latency=self.dram_latency,
            i_load=self.dram_load,
            i_dump=self.dram_dump,
            i_dump_words=self.dram_dump_words,
            o_oob=self.dram_oob,
            o_rd_beats=self.dram_rd_beats,
            o_wr_beats=self.dram_wr_beats,
        )
        return m
