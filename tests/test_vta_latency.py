"""``accelgen sim vta --latency`` and ``--cycle-limit`` move the RTL result as the DRAM model says.

The job is ``examples/vta``: a ResNet-like 3x3 convolution (32 -> 32 channels, 14x14, pad 1) compiled by
``sw.vta.compile`` for the default config. The DRAM model (``sim/models/accelgen_dram.v``) queues up to 32 read
bursts, each due ``latency`` cycles after it was accepted, and streams the head burst one beat per cycle once
due; the VME keeps up to MAX_READS_IN_FLIGHT (8) bursts outstanding. So requests *pipeline*: bursts in flight
overlap their latency, and a burst pays it alone only when nothing else is outstanding. Hence, going from
latency 1 to latency L adds at most ``bursts * (L - 1)`` cycles (no overlap at all) and at least
``2 * (L - 1)`` (the first instruction fetch, then a LOAD that cannot be issued before its instruction arrived,
each wait in full with nothing else in flight).
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.vta.config import MemId, Opcode
from sw.vta.isa import InsnError, MemInsn, decode_insn
from sw.vta.job import insn_words, load_job

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "vta"
#: Instructions fetched per read command (hw/vta/fetch.py) and the longest burst (words) of every reader.
FETCH_CHUNK, MAX_BURST = 16, 32


def _bursts(words_of_rows):
    return sum(-(-w // MAX_BURST) for w in words_of_rows)


def _row_words(lo, nbytes, bus):
    return ((lo + nbytes - 1) // bus) - (lo // bus) + 1


def read_traffic(job):
    """``(bursts, beats)`` of every DRAM read the RTL issues for ``job``, from its instructions.

    Every reader (fetch, uop, inp, wgt, acc, acc8) is an ElemReader: each row of a LOAD is requested as the bus
    words it touches, in bursts of at most 32 words; fetch reads the stream in chunks of 16 instructions.
    """
    cfg, bus = job.cfg, job.cfg.bus_bytes
    rows = []
    for start in range(0, job.insn_count, FETCH_CHUNK):
        n = min(FETCH_CHUNK, job.insn_count - start)
        rows.append(_row_words(job.insn_addr + 16 * start, 16 * n, bus))
    for k, w in enumerate(insn_words(job.dram, job.insn_addr, job.insn_count)):
        try:
            insn = decode_insn(cfg, w, k)
        except InsnError:
            continue
        if not isinstance(insn, MemInsn) or insn.opcode != Opcode.LOAD or insn.x_size == 0:
            continue
        eb = cfg.elem_bytes(insn.memory_type)
        for y in range(insn.y_size):
            rows.append(_row_words((insn.dram_base + y * insn.x_stride) * eb, insn.x_size * eb, bus))
    return _bursts(rows), sum(rows)


@pytest.fixture(scope="module")
def job_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("vta-latency") / "job"
    shutil.copytree(EXAMPLE, d, ignore=shutil.ignore_patterns("out-*", ".out-*", "trace", "make.py"))
    return d


def _run(job_dir, name, *args):
    out = job_dir.parent / name
    rc = main(["sim", "vta", "--job", str(job_dir), "--out", str(out), *args])
    return rc, json.loads((out / "result.json").read_text()), out


def test_traffic_model_matches_the_golden_job():
    job = load_job(EXAMPLE)
    bursts, beats = read_traffic(job)
    assert 0 < bursts <= beats
    loads = [decode_insn(job.cfg, w, k) for k, w in enumerate(insn_words(job.dram, job.insn_addr, job.insn_count))]
    assert any(isinstance(i, MemInsn) and i.memory_type == MemId.WGT for i in loads), "the job loads weights"


@pytest.mark.rtl
def test_latency_moves_cycles_as_the_dram_model_implies(job_dir, capsys):
    rc1, r1, o1 = _run(job_dir, "lat1", "--latency", "1")
    rc200, r200, o200 = _run(job_dir, "lat200", "--latency", "200")
    assert rc1 == rc200 == 0 and r1["status"] == r200["status"] == "ok", (r1["message"], r200["message"])
    assert (r1["latency"], r200["latency"]) == (1, 200)
    # same work, same result: only the timing moves
    assert (o1 / "dram.bin").read_bytes() == (o200 / "dram.bin").read_bytes()
    rc, g, og = _run(job_dir, "golden", "--backend", "golden")
    assert rc == 0 and (og / "dram.bin").read_bytes() == (o1 / "dram.bin").read_bytes()
    for k in ("gemm_uops", "alu_uops", "acc_writes", "dram_read_beats", "dram_write_beats"):
        assert r1["counters"][k] == r200["counters"][k], k

    bursts, beats = read_traffic(load_job(job_dir))
    assert r1["counters"]["dram_read_beats"] == beats, "the burst model does not describe the RTL's reads"
    delta = r200["cycles"] - r1["cycles"]
    lo, hi = 2 * 199, bursts * 199
    assert lo <= delta <= hi, (f"latency 1 -> 200 added {delta} cycles; the DRAM model implies "
                               f"{lo}..{hi} ({bursts} read bursts)")
    # the loads wait longer; compute (GEMM) work does not change
    assert r200["counters"]["load_busy"] > r1["counters"]["load_busy"]
    assert r200["counters"]["gemm_busy"] == r1["counters"]["gemm_busy"]
    print(f"latency 1: {r1['cycles']:,} cycles, latency 200: {r200['cycles']:,} (+{delta:,}); "
          f"{bursts} bursts, {beats} beats; bound {lo}..{hi}")

    # the default latency (32) lies in between
    rc, r32, _ = _run(job_dir, "lat32")
    assert rc == 0 and r32["latency"] == 32
    assert r1["cycles"] < r32["cycles"] < r200["cycles"]
    assert r32["cycles"] - r1["cycles"] <= bursts * 31


@pytest.mark.rtl
def test_cycle_limit_stops_the_run(job_dir):
    rc, r, _ = _run(job_dir, "limit", "--cycle-limit", "1000")
    assert rc == 1 and r["status"] == "timeout"
    assert 1000 <= r["cycles"] <= 1010 and r["cycle_limit"] == 1000
    assert "cycle limit 1000 reached" in r["message"]


def test_example_runs_on_the_golden_backend(job_dir):
    rc, r, out = _run(job_dir, "example-golden", "--backend", "golden")
    assert rc == 0 and r["status"] == "ok" and r["outputs"] == {"dram": "dram.bin"}
    from sw.vta.compile import check_output
    ok, msg = check_output(job_dir, np.frombuffer((out / "dram.bin").read_bytes(), np.uint8))
    assert ok, msg
