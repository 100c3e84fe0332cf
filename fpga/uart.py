"""UART receiver and transmitter (8 data bits, no parity, 1 stop bit) with byte streams."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["UARTRx", "UARTTx", "divisor"]


def _check_divisor(divisor):
    if not isinstance(divisor, int) or divisor < 4:
        raise ValueError(f"divisor must be an integer >= 4, not {divisor!r}")
    return divisor


def divisor(clk_hz: float, baud: int) -> int:
    """Clock cycles per bit; raises ``ValueError`` when the clock is too slow or the error exceeds 2%."""
    if baud <= 0:
        raise ValueError(f"baud must be positive, not {baud!r}")
    div = round(clk_hz / baud)
    if div < 4:
        raise ValueError(f"a {clk_hz / 1e6:g} MHz clock cannot run {baud} baud (needs >= 4 cycles per bit)")
    if abs(clk_hz / div - baud) / baud > 0.02:
        raise ValueError(f"{clk_hz / 1e6:g} MHz / {div} = {clk_hz / div:.0f} baud is more than 2% off {baud}")
    return div


class UARTRx(wiring.Component):
    """UART receiver: samples each bit in its middle, ``divisor`` cycles apart.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (>= 4).

    Attributes
    ----------
    rx : In(1)
        The line (idle high); synchronised internally.
    data : Out(stream.Signature(8))
        Received bytes. A byte that arrives while the previous one is still unread is dropped and
        ``overrun`` set; a byte without a stop bit sets ``frame_error`` instead.
    overrun, frame_error : Out(1)
        Sticky error flags.
    """

    def __init__(self, divisor: int):
        self.divisor = _check_divisor(divisor)
        super().__init__({"rx": In(1, init=1), "data": Out(stream.Signature(8)),
                          "overrun": Out(1), "frame_error": Out(1)})

    def elaborate(self, platform):
        m = Module()
        rx = Signal(init=1)
        m.submodules.sync = FFSynchronizer(self.rx, rx, init=1)
        timer = Signal(range(self.divisor * 3 // 2 + 1))
        bits = Signal(8)
        count = Signal(range(9))

        with m.If(self.data.ready):
            m.d.sync += self.data.valid.eq(0)
        with m.FSM():
            with m.State("idle"):
                with m.If(~rx):
                    # The first data bit's middle is 1.5 bit periods after the start edge.
                    m.d.sync += [timer.eq(self.divisor * 3 // 2 - 1), count.eq(0)]
                    m.next = "data"
            with m.State("data"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [bits.eq(Cat(bits[1:], rx)), count.eq(count + 1), timer.eq(self.divisor - 1)]
                    with m.If(count == 7):
                        m.next = "stop"
            with m.State("stop"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(rx):
                    with m.If(self.data.valid & ~self.data.ready):
                        m.d.sync += self.overrun.eq(1)
                    with m.Else():
                        m.d.sync += [self.data.payload.eq(bits), self.data.valid.eq(1)]
                    m.next = "idle"
                with m.Else():
                    m.d.sync += self.frame_error.eq(1)
                    m.next = "break"
            with m.State("break"):
                with m.If(rx):
                    m.next = "idle"
        return m


class UARTTx(wiring.Component):
    """UART transmitter (``divisor``: clock cycles per bit, >= 4).

    Attributes
    ----------
    data : In(stream.Signature(8))
        Bytes to send; taken when the previous byte's stop bit has been sent.
    tx : Out(1)
        The line (idle high).
    """

    def __init__(self, divisor: int):
        self.divisor = _check_divisor(divisor)
        super().__init__({"data": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        shift = Signal(10, init=0x3FF)   # stop, data[7:0], start; shifted out LSB first
        left = Signal(range(11))
        timer = Signal(range(self.divisor))
        m.d.comb += [self.tx.eq(shift[0]), self.data.ready.eq(left == 0)]
        with m.If(self.data.valid & self.data.ready):
            m.d.sync += [shift.eq(Cat(Const(0, 1), self.data.payload, Const(1, 1))), left.eq(10),
                         timer.eq(self.divisor - 1)]
        with m.Elif(left != 0):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Else():
                m.d.sync += [shift.eq(Cat(shift[1:], Const(1, 1))), left.eq(left - 1), timer.eq(self.divisor - 1)]
        return m
