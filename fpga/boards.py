"""Board tops: an engine, block RAM standing in for its DRAM and a UART host bridge, on a real pinout.

:class:`BoardTop` takes any engine whose signature has a host register port (``In(RegBusSignature())``)
and a memory master (``Out(MemBusSignature(w))``), e.g. VTA or the MemCopy fixture. The host talks to
the UART with the protocol of :mod:`fpga.bridge`: write the job into the on-chip DRAM with ``w``, program
the engine's registers with ``W``, poll with ``R``, read results back with ``r``. The engine's one-bit
outputs (VTA: finish, error) drive the first LEDs; the last LED blinks at about 1.5 Hz to show the clock
runs. A power-on counter holds the design in reset for 16 cycles after configuration.

Pin files are in ``constraints/``: top-level port names are ``clk``, ``uart_rx``, ``uart_tx`` and
``led[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amaranth.hdl import ClockDomain, ClockSignal, Const, Module, ResetSignal, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import MemBusSignature, RegBusSignature
from .bridge import HostBridge
from .onchip_dram import OnChipDram
from .uart import UARTRx, UARTTx, divisor

__all__ = ["Board", "BOARDS", "BoardTop", "HostSystem", "board_design", "host_ports"]

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Board:
    """A supported board.

    Attributes
    ----------
    name, family, device : str
        Board name and its FPGA (:mod:`fpga.devices`).
    clk_mhz : float
        The oscillator on the clock pin; the engine runs at this frequency (no PLL).
    baud : int
        UART rate.
    n_leds : int
        User LEDs used.
    led_active_low : bool
        LEDs light when the pin is low.
    constraints : str
        Pin file, relative to the project root.
    uart_pins : str
        Where the UART is, for the user.
    mem_bytes : int
        Default on-chip DRAM size.
    """

    name: str
    family: str
    device: str
    clk_mhz: float
    baud: int
    n_leds: int
    led_active_low: bool
    constraints: str
    uart_pins: str
    mem_bytes: int

    @property
    def constraints_path(self) -> Path:
        return _ROOT / self.constraints


BOARDS = {b.name: b for b in (
    Board("ulx3s", "ecp5", "85k", 25.0, 115200, 8, False, "constraints/ulx3s.lpf",
          "the FTDI USB serial port (FPGA rx M1, tx L4)", 64 * 1024),
    Board("icebreaker", "ice40", "up5k", 12.0, 115200, 2, True, "constraints/icebreaker.pcf",
          "the FTDI USB serial port, channel B (FPGA rx 6, tx 9)", 2 * 1024),
    Board("pynq_z1", "xilinx", "xc7z020", 125.0, 115200, 4, False, "constraints/pynq_z1.xdc",
          "PMOD JA (FPGA tx Y19 = JA2, rx Y16 = JA3) with a 3.3 V USB-UART cable", 64 * 1024),
)}


def host_ports(engine: wiring.Component) -> tuple[str, str]:
    """Names of ``engine``'s host register port and memory master; raises ``TypeError`` if missing."""
    reg = mem = None
    for name, member in engine.signature.members.items():
        if member.is_signature and member.flow == In and isinstance(member.signature, RegBusSignature):
            reg = reg or name
        if member.is_signature and member.flow == Out and isinstance(member.signature, MemBusSignature):
            mem = mem or name
    if reg is None or mem is None:
        raise TypeError(f"{type(engine).__name__} needs an In(RegBusSignature()) host port and an "
                        f"Out(MemBusSignature(w)) memory master for a board top "
                        f"(found host={reg!r}, mem={mem!r})")
    return reg, mem


class HostSystem(wiring.Component):
    """The clock-agnostic core of a board top: engine, on-chip DRAM, host bridge and UART.

    Parameters
    ----------
    engine : wiring.Component
        The engine (submodule ``engine``); needs a host register port and a memory master.
    mem_words : int
        On-chip DRAM depth in bus words (a power of two >= 2).
    divisor : int
        Clock cycles per UART bit.

    Attributes
    ----------
    uart_rx : In(1)
    uart_tx : Out(1)
    flags : Out(n)
        The engine's one-bit outputs in signature order (VTA: finish, error); ``flag_names`` names them.
    """

    def __init__(self, engine, *, mem_words: int, divisor: int):
        if not isinstance(engine, wiring.Component):
            raise TypeError(f"engine must be a wiring.Component, not {engine!r}")
        self.reg_name, self.mem_name = host_ports(engine)
        self.engine = engine
        self.data_width = engine.signature.members[self.mem_name].signature.data_width
        self.mem_words = mem_words
        self.divisor = divisor
        self.flag_names = [n for n, mb in engine.signature.members.items()
                           if n not in (self.reg_name, self.mem_name) and mb.is_port and mb.flow == Out
                           and len(Value.cast(getattr(engine, n))) == 1]
        super().__init__({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1),
                          "flags": Out(max(1, len(self.flag_names)))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self.engine
        m.submodules.dram = dram = OnChipDram(self.data_width, self.mem_words)
        m.submodules.bridge = bridge = HostBridge()
        m.submodules.uart_rx = rx = UARTRx(self.divisor)
        m.submodules.uart_tx = tx = UARTTx(self.divisor)
        wiring.connect(m, getattr(engine, self.mem_name), dram.bus)
        wiring.connect(m, bridge.regs, getattr(engine, self.reg_name))
        wiring.connect(m, bridge.mem, dram.host)
        wiring.connect(m, rx.data, bridge.rx)
        wiring.connect(m, bridge.tx, tx.data)
        m.d.comb += [rx.rx.eq(self.uart_rx), self.uart_tx.eq(tx.tx),
                     bridge.info.eq(dram.size_bytes | (dram.oob << 31))]
        for i, name in enumerate(self.flag_names):
            m.d.comb += self.flags[i].eq(getattr(engine, name))
        # Remaining engine inputs (none on VTA) are held at 0.
        for name, member in engine.signature.members.items():
            if member.is_port and member.flow == In:
                m.d.comb += Value.cast(getattr(engine, name)).eq(0)
        return m


class BoardTop(wiring.Component):
    """An engine on a board: :class:`HostSystem` plus the board clock, power-on reset and LEDs.

    Parameters
    ----------
    engine : wiring.Component
        The engine.
    board : Board
        Where it goes.
    mem_bytes : int, optional
        On-chip DRAM size in bytes (a power of two, at least two bus words); default ``board.mem_bytes``.

    Raises
    ------
    TypeError
        The engine lacks a host register port or a memory master.
    ValueError
        ``mem_bytes`` is not a power of two of at least two bus words, or the board clock cannot
        produce its baud rate.
    """

    def __init__(self, engine, board: Board, *, mem_bytes: int | None = None):
        self.board = board
        if not isinstance(engine, wiring.Component):
            raise TypeError(f"engine must be a wiring.Component, not {engine!r}")
        _, mem_name = host_ports(engine)
        width = engine.signature.members[mem_name].signature.data_width
        mem_bytes = board.mem_bytes if mem_bytes is None else mem_bytes
        words = mem_bytes * 8 // width if isinstance(mem_bytes, int) else 0
        if words < 2 or words & (words - 1) or words * width // 8 != mem_bytes:
            raise ValueError(f"mem_bytes must be a power of two of at least two {width}-bit bus words "
                             f"({width // 4} bytes), not {mem_bytes!r}")
        self.system = HostSystem(engine, mem_words=words, divisor=divisor(board.clk_mhz * 1e6, board.baud))
        super().__init__({"clk": In(1), "uart_rx": In(1, init=1), "uart_tx": Out(1, init=1),
                          "led": Out(board.n_leds)})

    def elaborate(self, platform):
        m = Module()
        board = self.board
        m.domains.sync = ClockDomain("sync")
        m.domains.por = ClockDomain("por", reset_less=True)
        m.d.comb += [ClockSignal("sync").eq(self.clk), ClockSignal("por").eq(self.clk)]
        # Registers start at their init values after configuration; hold everything in reset a moment.
        por = Signal(4)
        with m.If(~por.all()):
            m.d.por += por.eq(por + 1)
        m.d.comb += ResetSignal("sync").eq(~por.all())

        m.submodules.system = system = self.system
        m.d.comb += [system.uart_rx.eq(self.uart_rx), self.uart_tx.eq(system.uart_tx)]
        period = int(board.clk_mhz * 1e6 / 3)
        heartbeat = Signal(range(period + 1))
        blink = Signal()
        m.d.sync += heartbeat.eq(heartbeat + 1)
        with m.If(heartbeat == period):
            m.d.sync += [heartbeat.eq(0), blink.eq(~blink)]
        n_flags = min(len(system.flag_names), board.n_leds - 1)
        leds = [system.flags[i] for i in range(n_flags)]
        leds += [Const(0, 1)] * (board.n_leds - 1 - n_flags) + [blink]
        for i, v in enumerate(leds):
            m.d.comb += self.led[i].eq(~v if board.led_active_low else v)
        return m


def board_design(engine: str, cfg, board_name: str, *, mem_bytes: int | None = None):
    """``(Design, Board)`` for engine plugin ``engine`` with config ``cfg`` on ``board_name``."""
    from sim import engines
    from .flow import BOARD_FILES, Design, _engine_sources
    if board_name not in BOARDS:
        raise ValueError(f"board must be one of {', '.join(BOARDS)}, not {board_name!r}")
    board = BOARDS[board_name]
    mod = engines.get(engine)
    mem = board.mem_bytes if mem_bytes is None else mem_bytes
    design = Design(top=f"{engine}_{board.name}", label=f"{engine}-{cfg.name}-{board.name}",
                    make_top=lambda: BoardTop(mod.top(cfg), board, mem_bytes=mem),
                    key={"engine": engine, "config": cfg.to_dict(), "board": board.name, "mem_bytes": mem},
                    extra_files=tuple(_engine_sources(engine)) + BOARD_FILES, constraints=board.constraints_path,
                    info={"engine": engine, "config_name": cfg.name, "config": cfg.to_dict(), "board": board.name,
                          "mem_bytes": mem, "clk_mhz": board.clk_mhz})
    return design, board
