"""HostBridge: a byte-stream protocol (over UART on the boards) to an engine's host registers and memory.

Commands are one ASCII byte followed by little-endian arguments; every command is answered:

======= ============================== =========================================================
command arguments                      reply
======= ============================== =========================================================
``W``   addr (1 byte), data (4 bytes)  ``K``: register ``addr`` written
``R``   addr (1 byte)                  4 bytes: register ``addr``
``w``   byte address (4), data (4)     ``K``: on-chip DRAM word written (address aligned down to 4)
``r``   byte address (4)               4 bytes: on-chip DRAM word
``I``   (none)                         4 bytes: ``info`` (the board top puts the DRAM size in bytes in
                                       bits 30:0 and the sticky out-of-range flag in bit 31)
other   (none)                         ``?``
======= ============================== =========================================================

Register addresses are the engine's own (``addr`` of :class:`~hw.common.bus.RegBusSignature`: byte offsets
for VTA's VCR, word indices for MemCopy); the bridge does not interpret them.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hw.common.bus import RegBusSignature
from .onchip_dram import WordPortSignature

__all__ = ["HostBridge", "COMMANDS"]

#: Command byte -> number of argument bytes.
COMMANDS = {ord("W"): 5, ord("R"): 1, ord("w"): 8, ord("r"): 4, ord("I"): 0}


class HostBridge(wiring.Component):
    """Byte-stream host bridge (see the module docstring for the protocol).

    Attributes
    ----------
    rx : In(stream.Signature(8))
        Command bytes from the host.
    tx : Out(stream.Signature(8))
        Reply bytes to the host.
    regs : Out(RegBusSignature())
        The engine's host register port.
    mem : Out(WordPortSignature)
        The on-chip DRAM's host port.
    info : In(32)
        Returned by ``I``.
    """

    def __init__(self):
        super().__init__({"rx": In(stream.Signature(8)), "tx": Out(stream.Signature(8)),
                          "regs": Out(RegBusSignature()), "mem": Out(WordPortSignature), "info": In(32)})

    def elaborate(self, platform):
        m = Module()
        cmd = Signal(8)
        args = Signal(64)
        need = Signal(range(9))
        got = Signal(range(9))
        reply = Signal(32)
        reply_left = Signal(range(5))
        reg_addr = Signal(8)

        m.d.comb += [self.regs.addr.eq(reg_addr), self.regs.w_data.eq(args[8:40]),
                     self.mem.addr.eq(args[:32]), self.mem.w_data.eq(args[32:64]),
                     self.tx.payload.eq(reply[:8])]

        with m.FSM():
            with m.State("command"):
                m.d.comb += self.rx.ready.eq(1)
                with m.If(self.rx.valid):
                    m.d.sync += [cmd.eq(self.rx.payload), args.eq(0), got.eq(0)]
                    with m.Switch(self.rx.payload):
                        for code, n in COMMANDS.items():
                            with m.Case(code):
                                m.d.sync += need.eq(n)
                                m.next = "arguments" if n else "execute"
                        with m.Default():
                            m.d.sync += [reply.eq(ord("?")), reply_left.eq(1)]
                            m.next = "reply"
            with m.State("arguments"):
                m.d.comb += self.rx.ready.eq(1)
                with m.If(self.rx.valid):
                    # Little-endian: each byte lands above the previous ones.
                    m.d.sync += [args.word_select(got, 8).eq(self.rx.payload), got.eq(got + 1),
                                 need.eq(need - 1)]
                    with m.If(need == 1):
                        m.next = "execute"
            with m.State("execute"):
                m.d.sync += reg_addr.eq(args[:8])
                with m.Switch(cmd):
                    with m.Case(ord("W")):
                        m.next = "reg_write"
                    with m.Case(ord("R")):
                        m.next = "reg_read"
                    with m.Case(ord("w"), ord("r")):
                        m.next = "memory"
                    with m.Case(ord("I")):
                        m.d.sync += [reply.eq(self.info), reply_left.eq(4)]
                        m.next = "reply"
            with m.State("reg_write"):
                m.d.comb += self.regs.w_stb.eq(1)
                m.d.sync += [reply.eq(ord("K")), reply_left.eq(1)]
                m.next = "reply"
            with m.State("reg_read"):
                m.d.sync += [reply.eq(self.regs.r_data), reply_left.eq(4)]
                m.next = "reply"
            with m.State("memory"):
                m.d.comb += [self.mem.w_en.eq(cmd == ord("w")), self.mem.r_en.eq(cmd == ord("r"))]
                with m.If(self.mem.ack):
                    with m.If(cmd == ord("w")):
                        m.d.sync += [reply.eq(ord("K")), reply_left.eq(1)]
                    with m.Else():
                        m.d.sync += [reply.eq(self.mem.r_data), reply_left.eq(4)]
                    m.next = "reply"
            with m.State("reply"):
                m.d.comb += self.tx.valid.eq(1)
                with m.If(self.tx.ready):
                    m.d.sync += [reply.eq(reply >> 8), reply_left.eq(reply_left - 1)]
                    with m.If(reply_left == 1):
                        m.next = "command"
        return m
