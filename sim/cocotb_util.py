"""Helpers used inside cocotb tests running on a :class:`sim.simtop.SimTop` build.

The clock runs in the simulator (cocotb's GPI clock), memory images move through files
(``$readmemh``/``$writememh`` in the DRAM model) and :func:`wait_until` sleeps in the simulator until
a signal rises or a cycle limit passes, so Python does no per-cycle work on long runs.

Typical test::

    @cocotb.test()
    async def test_copy(dut):
        clk = start_clock(dut)
        await reset(dut)
        dram = Dram(dut, data_width=64)
        dram.set_latency(20)
        await dram.load(image)
        regs = RegBus(dut)
        await regs.write(0, 1)
        fired = await wait_until(dut, [dut.done], cycle_limit=100_000, clk=clk)
        assert fired == "done", "timed out"
        out = await dram.dump(len(image))
        record("copy", cycles=...)
"""

import json
import os
from pathlib import Path

import numpy as np

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, First, RisingEdge, Timer
from cocotb.utils import get_sim_time

__all__ = [
    "start_clock", "reset", "Dram", "RegBus", "wait_until", "cycles_now", "record",
    "ENV_DRAM_IN", "ENV_DRAM_OUT", "ENV_RECORDS", "image_to_hex", "hex_to_image",
]

#: Environment variables set by :func:`sim.runner.run_cocotb` (the same paths are passed as plusargs).
ENV_DRAM_IN = "ACCELGEN_DRAM_IN"
ENV_DRAM_OUT = "ACCELGEN_DRAM_OUT"
ENV_RECORDS = "ACCELGEN_RECORDS"

# Running Clock and its period (ns) per clock signal path, set by start_clock.
_clocks = {}


def start_clock(dut, period_ns=10, *, clk="clk"):
    """Start a free-running clock on ``dut.<clk>`` (implemented in the simulator, not in Python).

    Calling it again in the same test for the same signal returns the same handle without starting
    a second clock.

    Returns
    -------
    The clock signal handle (pass it to :func:`wait_until`).
    """
    handle = getattr(dut, clk)
    key = handle._path
    running = _clocks.get(key)
    # cocotb stops a test's clocks when the test ends; start a new one for each test.
    if running is None or running[0]._task is None or running[0]._task.done():
        clock = Clock(handle, period_ns, unit="ns", impl="gpi")
        clock.start(start_high=False)
        _clocks[key] = (clock, period_ns)
    return handle


def _period_ns(clk):
    try:
        return _clocks[clk._path][1]
    except KeyError:
        raise RuntimeError(f"no clock started on {clk._path}; call start_clock() first") from None


def cycles_now(clk):
    """Clock cycles elapsed since time 0 on ``clk`` (from the simulation time; no counting in Python)."""
    return int(get_sim_time("ns") // _period_ns(clk))


async def reset(dut, cycles=5, *, clk="clk", rst="rst"):
    """Hold ``rst`` high for ``cycles`` rising edges, then release it (also zeroes DRAM controls)."""
    clk_h, rst_h = getattr(dut, clk), getattr(dut, rst)
    for name in ("dram_load", "dram_dump"):
        if hasattr(dut, name):
            getattr(dut, name).value = 0
    # dram_latency is left alone: a value a test wrote just before reset() has not taken effect yet, so reading it
    # here and writing a default over it lost the caller's latency (the DRAM model treats 0 as 1).
    rst_h.value = 1
    for _ in range(cycles):
        await RisingEdge(clk_h)
    rst_h.value = 0
    await RisingEdge(clk_h)


def image_to_hex(image, data_width):
    """Render bytes as the DRAM model's hex format (one little-endian word per line).

    The image is zero-padded to a whole number of words.
    """
    b = data_width // 8
    arr = np.frombuffer(bytes(image), dtype=np.uint8) if not isinstance(image, np.ndarray) \
        else np.ascontiguousarray(image).view(np.uint8).reshape(-1)
    pad = (-len(arr)) % b
    if pad:
        arr = np.concatenate([arr, np.zeros(pad, np.uint8)])
    words = arr.reshape(-1, b)[:, ::-1]            # most significant byte first on each line
    hexes = words.tobytes().hex()
    n = 2 * b
    return "\n".join(hexes[i:i + n] for i in range(0, len(hexes), n)) + "\n"


def hex_to_image(text, data_width, nbytes=None):
    """Parse the DRAM model's hex output back into bytes (``np.ndarray`` of ``uint8``)."""
    b = data_width // 8
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("//") and not ln.startswith("@")]
    raw = bytes.fromhex("".join(ln.rjust(2 * b, "0") for ln in lines))
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, b)[:, ::-1].reshape(-1)
    return arr[:nbytes].copy() if nbytes is not None else arr.copy()


class Dram:
    """Bulk access to the SimTop's DRAM model from a cocotb test.

    Parameters
    ----------
    dut : cocotb handle
        The SimTop (needs ``dram_load``, ``dram_dump``, ``dram_dump_words``, ``dram_latency``).
    data_width : int
        Bus width in bits.
    clk : str
        Clock port name.

    Attributes
    ----------
    in_path, out_path : Path
        The files the model reads/writes (from the ``ACCELGEN_DRAM_IN/OUT`` environment variables,
        which :func:`sim.runner.run_cocotb` sets together with the matching plusargs).
    """

    def __init__(self, dut, data_width, *, clk="clk"):
        if data_width % 32 or data_width <= 0:
            raise ValueError(f"data_width must be a positive multiple of 32, not {data_width!r}")
        self.dut = dut
        self.data_width = data_width
        self.clk = getattr(dut, clk)
        self.in_path = Path(os.environ.get(ENV_DRAM_IN, "dram_in.hex"))
        self.out_path = Path(os.environ.get(ENV_DRAM_OUT, "dram_out.hex"))

    def set_latency(self, n):
        """Cycles from read-request acceptance to its first beat (at least 1)."""
        if not 1 <= n < 1 << 16:
            raise ValueError(f"latency must be from 1 to 65535, not {n!r}")
        self.dut.dram_latency.value = n

    async def _pulse(self, sig):
        sig.value = 1
        await RisingEdge(self.clk)
        sig.value = 0
        # The model acts on the edge above; one more edge guarantees the file is complete.
        await RisingEdge(self.clk)

    async def load(self, image):
        """Write ``image`` (bytes or array) from word 0 of the DRAM; padded to a whole word.

        Words beyond the image keep their previous contents.
        """
        self.in_path.write_text(image_to_hex(image, self.data_width))
        await self._pulse(self.dut.dram_load)

    async def dump(self, nbytes):
        """Read the first ``nbytes`` bytes of the DRAM as ``np.ndarray`` of ``uint8``."""
        b = self.data_width // 8
        words = -(-nbytes // b)
        if words == 0:
            return np.zeros(0, np.uint8)
        with _suppress_missing(self.out_path):
            self.out_path.unlink()
        self.dut.dram_dump_words.value = words
        await self._pulse(self.dut.dram_dump)
        if not self.out_path.exists():
            raise RuntimeError(f"the DRAM model wrote no dump at {self.out_path} "
                               "(is +ACCELGEN_DRAM_OUT set? use sim.runner.run_cocotb)")
        return hex_to_image(self.out_path.read_text(), self.data_width, nbytes)


class _suppress_missing:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, typ, exc, tb):
        return typ is FileNotFoundError


class RegBus:
    """Drive a :class:`~hw.common.bus.RegBusSignature` port of the top (``<prefix>__addr`` ...).

    Parameters
    ----------
    dut : cocotb handle
    prefix : str
        Flattened name of the register member (default ``"host"``).
    clk : str
        Clock port name.
    """

    def __init__(self, dut, prefix="host", *, clk="clk"):
        self.clk = getattr(dut, clk)
        try:
            self.addr = getattr(dut, f"{prefix}__addr")
            self.w_data = getattr(dut, f"{prefix}__w_data")
            self.w_stb = getattr(dut, f"{prefix}__w_stb")
            self.r_data = getattr(dut, f"{prefix}__r_data")
        except AttributeError as e:
            raise AttributeError(f"top has no register bus with prefix {prefix!r}: {e}") from None
        self.w_stb.value = 0

    async def write(self, addr, value):
        """Write ``value`` to register ``addr`` (takes one clock edge)."""
        self.addr.value = addr
        self.w_data.value = value & ((1 << len(self.w_data)) - 1)
        self.w_stb.value = 1
        await RisingEdge(self.clk)
        self.w_stb.value = 0

    async def read(self, addr):
        """Return register ``addr`` (sampled at the next falling edge)."""
        self.addr.value = addr
        await FallingEdge(self.clk)
        return int(self.r_data.value)


async def wait_until(dut, signals, cycle_limit, clk):
    """Sleep in the simulator until one of ``signals`` is 1, or ``cycle_limit`` cycles pass.

    Python is not woken per cycle: the wait is one ``First(RisingEdge(s)..., Timer(limit))``.
    Signals already at 1 return immediately. On return, the simulation is aligned to a rising edge
    of ``clk`` (writes made by the caller take effect from the next edge).

    Parameters
    ----------
    dut : cocotb handle
        Unused except for symmetry with other helpers (kept so callers read naturally).
    signals : list of 1-bit handles
    cycle_limit : int
        Give up after this many cycles of ``clk``.
    clk : handle
        A clock started with :func:`start_clock`.

    Returns
    -------
    str or None
        The name of the signal found at 1 (the first in ``signals`` order), or ``None`` on timeout.
    """
    def high():
        for s in signals:
            v = s.value
            if v.is_resolvable and int(v) == 1:
                return s._name
        return None

    if (name := high()) is not None:
        return name
    period = _period_ns(clk)
    await First(*(RisingEdge(s) for s in signals), Timer(cycle_limit * period, unit="ns"))
    await RisingEdge(clk)
    return high()


def record(name, **data):
    """Append ``{"name": name, "test": <running test>, **data}`` as one JSON line to ``records.jsonl``.

    :func:`sim.runner.run_cocotb` collects these per test (e.g. cycles, throughput).
    """
    path = Path(os.environ.get(ENV_RECORDS, "records.jsonl"))
    with open(path, "a") as f:
        f.write(json.dumps({"name": name, "test": current_test_name(), **data},
                           default=_json_default) + "\n")


def current_test_name():
    """Name of the running cocotb test (``None`` if it cannot be found)."""
    try:
        from cocotb import regression
        return regression._manager_inst._test.name
    except AttributeError:
        return None


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)
