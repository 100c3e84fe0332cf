"""Progress of long steps: one line saying what runs and why, a heartbeat with the elapsed time, and the end.

Verilator builds, Verilog generation, whole networks and searches take minutes; a silent terminal looks like a
hang. Lines go to stderr so that machine-readable stdout stays clean.
"""

import contextlib
import sys
import threading
import time

__all__ = ["step", "HEARTBEAT_S"]

#: Seconds between heartbeat lines while a step runs.
HEARTBEAT_S = 30.0


@contextlib.contextmanager
def step(what: str, why: str = "", *, every: float | None = None, stream=None):
    """Announce ``what`` (because ``why``), print the elapsed time every ``every`` seconds, and when done.

    Examples
    --------
    >>> with step("Verilator build of vta-1x16x16", "new configuration"):  # doctest: +SKIP
    ...     build()
    """
    stream = sys.stderr if stream is None else stream
    every = HEARTBEAT_S if every is None else every
    t0 = time.monotonic()
    print(f"[accelgen] {what}" + (f" ({why})" if why else "") + " ...", file=stream, flush=True)
    done = threading.Event()

    def beat():
        while not done.wait(every):
            print(f"[accelgen]   {what}: {time.monotonic() - t0:,.0f} s elapsed", file=stream, flush=True)

    th = threading.Thread(target=beat, daemon=True)
    th.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        done.set()
        th.join()
        print(f"[accelgen] {what}: {'done' if ok else 'failed'} in {time.monotonic() - t0:,.1f} s",
              file=stream, flush=True)
