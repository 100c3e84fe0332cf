"""Bus signatures shared by every engine and by the simulation memory model.

``MemBusSignature`` is the memory master of an engine, as seen from the engine (requests go out).
It is a stripped-down AXI: read bursts of ``len + 1`` beats at a word address, answered in order, and
byte-strobed single-beat writes that take effect when accepted. Addresses count bus words
(``data_width // 8`` bytes), so byte address = ``addr * data_width // 8``.

``RegBusSignature`` is the host's register port (the VCR of VTA), written from the host's side: a
device takes it as ``In(RegBusSignature())``. A write takes effect at the clock edge where ``w_stb`` is
high; ``r_data`` shows the register at ``addr`` combinationally.
"""

from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["MemBusSignature", "ReadPortSignature", "RegBusSignature", "BURST_LEN_BITS", "DRAM_ADDR_BITS"]

#: Width of the ``len`` field of a read request: bursts of 1..256 beats.
BURST_LEN_BITS = 8
#: Bytes of DRAM the engines can address (32-bit byte addresses).
DRAM_ADDR_BITS = 32


def log2(n: int) -> int:
    """log2 of a power of two (widths and element sizes are all powers of two)."""
    if n <= 0 or n & (n - 1):
        raise ValueError(f"{n!r} is not a power of two")
    return n.bit_length() - 1


def word_addr_bits(data_width: int) -> int:
    return DRAM_ADDR_BITS - log2(data_width // 8)


class MemBusSignature(wiring.Signature):
    """Memory master port.

    Members
    -------
    rd_req : Out(stream)  payload ``{addr, len}``: read ``len + 1`` words from word ``addr``.
    rd_resp : In(stream)  payload ``{data, last}``: the words, in request order; ``last`` ends a burst.
    wr : Out(stream)      payload ``{addr, data, strb}``: write one word, bytes selected by ``strb``.
    """

    def __init__(self, data_width: int):
        if data_width not in (32, 64, 128, 256, 512, 1024):
            raise ValueError(f"data_width must be a power of two from 32 to 1024, not {data_width!r}")
        self.data_width = data_width
        self.addr_width = word_addr_bits(data_width)
        super().__init__({
            "rd_req": Out(stream.Signature(data.StructLayout(
                {"addr": self.addr_width, "len": BURST_LEN_BITS}))),
            "rd_resp": In(stream.Signature(data.StructLayout({"data": data_width, "last": 1}))),
            "wr": Out(stream.Signature(data.StructLayout(
                {"addr": self.addr_width, "data": data_width, "strb": data_width // 8}))),
        })

    def __eq__(self, other):
        return isinstance(other, MemBusSignature) and other.data_width == self.data_width

    def __repr__(self):
        return f"MemBusSignature({self.data_width})"


def ReadPortSignature(data_width: int) -> wiring.Signature:
    """The read half of :class:`MemBusSignature`: what one read client of an arbiter drives."""
    bus = MemBusSignature(data_width)
    return wiring.Signature({"rd_req": bus.members["rd_req"], "rd_resp": bus.members["rd_resp"]})


class RegBusSignature(wiring.Signature):
    """Host register port, as seen from the host (which drives ``addr``/``w_*``); devices use ``In(...)``."""

    def __init__(self, addr_width: int = 8, data_width: int = 32):
        self.addr_width = addr_width
        self.data_width = data_width
        super().__init__({
            "addr": Out(addr_width),
            "w_data": Out(data_width),
            "w_stb": Out(1),
            "r_data": In(data_width),
        })

    def __eq__(self, other):
        return (isinstance(other, RegBusSignature) and other.addr_width == self.addr_width
                and other.data_width == self.data_width)

    def __repr__(self):
        return f"RegBusSignature({self.addr_width}, {self.data_width})"
