"""Board tops: UART, host bridge and on-chip DRAM in Amaranth's simulator, driving the MemCopy fixture over
the UART exactly as a host would on the board; constructor errors; board tops elaborate for VTA."""

import gc
import random
from pathlib import Path

import pytest
from amaranth.back import rtlil
from amaranth.sim import Simulator

from fpga.boards import BOARDS, BoardTop, HostSystem, host_ports
from fpga.uart import UARTRx, UARTTx, divisor
from tb.common.memcopy import REG_COUNT, REG_CTRL, REG_CYCLES, REG_DST, REG_SRC, MemCopy

DIV = 4   # cycles per UART bit: the smallest the receiver supports, for short simulations


def test_divisor_errors():
    assert divisor(25e6, 115200) == 217
    assert divisor(12e6, 115200) == 104
    with pytest.raises(ValueError, match="needs >= 4 cycles per bit"):
        divisor(300e3, 115200)
    with pytest.raises(ValueError, match="more than 2% off"):
        divisor(1.0e6, 115200)    # 1 MHz / 9 = 111 kbaud
    with pytest.raises(ValueError, match="divisor must be an integer >= 4"):
        UARTRx(3)
    with pytest.raises(ValueError, match="divisor must be an integer >= 4"):
        UARTTx(2.5)


@pytest.mark.filterwarnings("ignore::amaranth._unused.UnusedMustUse")
def test_board_top_errors():
    with pytest.raises(TypeError, match="needs an In\\(RegBusSignature\\(\\)\\) host port"):
        host_ports(UARTTx(4))
    with pytest.raises(ValueError, match="mem_bytes must be a power of two of at least two 64-bit"):
        BoardTop(MemCopy(64), BOARDS["ulx3s"], mem_bytes=1000)
    with pytest.raises(ValueError, match="mem_bytes must be a power of two of at least two 64-bit"):
        BoardTop(MemCopy(64), BOARDS["ulx3s"], mem_bytes=8)
    with pytest.raises(TypeError, match="engine must be a wiring.Component"):
        BoardTop(object(), BOARDS["ulx3s"])
    gc.collect()    # the unused elaboratables above warn here, under this test's filter


async def _send(ctx, line, data):
    for byte in data:
        for bit in [0, *((byte >> i) & 1 for i in range(8)), 1]:
            ctx.set(line, bit)
            await ctx.tick().repeat(DIV)


async def _recv(ctx, line, n, timeout=2000):
    out = []
    for _ in range(n):
        waited = 0
        while ctx.get(line):
            await ctx.tick()
            waited += 1
            assert waited < timeout, f"no reply byte within {timeout} cycles (got {bytes(out)!r})"
        await ctx.tick().repeat(DIV + DIV // 2)      # middle of data bit 0
        byte = 0
        for i in range(8):
            byte |= ctx.get(line) << i
            await ctx.tick().repeat(DIV)
        assert ctx.get(line) == 1, "missing stop bit"
        out.append(byte)
    return bytes(out)


def test_uart_bridge_drives_memcopy():
    """Load words into the on-chip DRAM, copy them with MemCopy's registers, read them back, all over UART."""
    seed = random.randrange(1 << 30)
    print(f"seed {seed}")
    rng = random.Random(seed)
    width, words = 64, 16
    dut = HostSystem(MemCopy(width, max_burst=4, fifo_depth=8), mem_words=words, divisor=DIV)
    assert dut.flag_names == ["busy", "done"]
    src = [rng.randrange(1 << 32) for _ in range(8)]     # 4 bus words = 8 32-bit words at byte 0
    checked = {}

    async def bench(ctx):
        async def cmd(data, n):
            await _send(ctx, dut.uart_rx, data)
            return await _recv(ctx, dut.uart_tx, n)

        for i, v in enumerate(src):
            assert await cmd(b"w" + (4 * i).to_bytes(4, "little") + v.to_bytes(4, "little"), 1) == b"K"
        assert int.from_bytes(await cmd(b"r" + (12).to_bytes(4, "little"), 4), "little") == src[3]
        for reg, value in ((REG_SRC, 0), (REG_DST, 8), (REG_COUNT, 4)):     # bus-word addresses
            assert await cmd(b"W" + bytes([reg]) + value.to_bytes(4, "little"), 1) == b"K"
        assert int.from_bytes(await cmd(b"R" + bytes([REG_DST]), 4), "little") == 8
        assert await cmd(b"W" + bytes([REG_CTRL]) + (1).to_bytes(4, "little"), 1) == b"K"
        status = int.from_bytes(await cmd(b"R" + bytes([REG_CTRL]), 4), "little")
        assert status == 0b10, f"copy not done by the time the status was read: {status:#x}"
        assert ctx.get(dut.flags) == 0b10           # done, not busy
        checked["cycles"] = int.from_bytes(await cmd(b"R" + bytes([REG_CYCLES]), 4), "little")
        got = [int.from_bytes(await cmd(b"r" + (64 + 4 * i).to_bytes(4, "little"), 4), "little")
               for i in range(8)]
        assert got == src
        info = int.from_bytes(await cmd(b"I", 4), "little")
        assert info == words * width // 8           # size in bytes, no out-of-range access
        assert await cmd(b"x", 1) == b"?"
        # An address beyond the DRAM wraps and sets the sticky flag in bit 31.
        assert await cmd(b"w" + (words * 8 + 4).to_bytes(4, "little") + (7).to_bytes(4, "little"), 1) == b"K"
        assert int.from_bytes(await cmd(b"I", 4), "little") == (1 << 31) | (words * width // 8)
        assert int.from_bytes(await cmd(b"r" + (4).to_bytes(4, "little"), 4), "little") == 7
        checked["done"] = True

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run_until(2e-2)
    assert checked.get("done"), "the testbench did not finish"
    # 4 words copied: a read burst, DRAM latency 1, 4 writes; MemCopy counts from start to done.
    assert 4 <= checked["cycles"] <= 16, checked["cycles"]


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_board_tops_elaborate(board):
    """Every board top converts (MemCopy engine): ports are exactly the pin file's."""
    top = BoardTop(MemCopy(64), BOARDS[board])
    text = rtlil.convert(top, name="top")
    for port in ("clk", "uart_rx", "uart_tx", "led"):
        assert f"wire width {1 if port != 'led' else BOARDS[board].n_leds} " in text or port in text
    pins = BOARDS[board].constraints_path.read_text()
    for port in ("clk", "uart_rx", "uart_tx", "led[0]"):
        assert port in pins, f"{port} missing from {BOARDS[board].constraints}"
    assert f"led[{BOARDS[board].n_leds - 1}]" in pins and f"led[{BOARDS[board].n_leds}]" not in pins


def test_icebreaker_bitstream(tmp_path):
    """MemCopy on the iCEBreaker through the real pin file: routes at the 12 MHz board clock, packs a bitstream."""
    from fpga.flow import BOARD_FILES, Design, pnr
    board = BOARDS["icebreaker"]
    d = Design(top="memcopy_icebreaker", label="memcopy-icebreaker",
               make_top=lambda: BoardTop(MemCopy(64), board), key={"engine": "memcopy", "board": board.name},
               extra_files=("tb/common/memcopy.py", *BOARD_FILES), constraints=board.constraints_path)
    r = pnr(d, board.family, board.device, freq=board.clk_mhz, bitstream=True, root=tmp_path)
    assert r["status"] == "ok" and r["fmax_mhz"] > board.clk_mhz
    assert r["resources"]["ios"] == 1 + 2 + board.n_leds          # clk, uart rx/tx, LEDs
    # 2 KiB of on-chip DRAM (four 4-Kbit RAMs) + the 64 x 64-bit MemCopy FIFO (four more)
    assert r["resources"]["brams"] == 8
    assert Path(r["bitstream"]).stat().st_size == 104090           # every UP5K bitstream has this size
