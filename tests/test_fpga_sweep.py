"""Design-space sweeps: space files, grid expansion, Pareto front, the Dask run with its cache (workload and
synthesis replaced by fast stand-ins; the real ones are exercised by tests/test_fpga.py and `accelgen sweep`),
and the VTA GEMM workload on the RTL of a small config."""

import json
from pathlib import Path

import pytest

from fpga import sweep as S
from fpga.workloads import WorkloadError, benchmark, vta_gemm_tiling
from sw.vta.config import VTAConfig

ROOT = Path(__file__).resolve().parent.parent


def _space(tmp_path, **kw):
    space = {"engine": "vta", "base": {"LOG_BATCH": 0, "LOG_UOP_BUFF_SIZE": 10, "LOG_INP_BUFF_SIZE": 11,
                                       "LOG_WGT_BUFF_SIZE": 14, "LOG_ACC_BUFF_SIZE": 12},
             "axes": {"LOG_BLOCK": [2, 3], "BUS_WIDTH": [64, 128]},
             "points": [{"LOG_BLOCK": 2, "BUS_WIDTH": 64}, {"LOG_BLOCK": 4, "BUS_WIDTH": 64}],
             "workload": {"m": 16}, "synth": {"family": "ecp5", "dsp": False}, **kw}
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space))
    return path


def test_space_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"engine": "vta", "axis": {}}')
    with pytest.raises(S.SweepError, match="unknown key\\(s\\) axis"):
        S.load_space(bad)
    bad.write_text('{"axes": {"LOG_BLOCK": []}}')
    with pytest.raises(S.SweepError, match="non-empty list"):
        S.load_space(bad)
    bad.write_text('{"synth": {"family": "ecp5", "seed": 1}}')
    with pytest.raises(S.SweepError, match="'synth' takes family, device and dsp"):
        S.load_space(bad)
    with pytest.raises(S.SweepError, match="cannot read space"):
        S.load_space(tmp_path / "missing.json")
    with pytest.raises(S.SweepError, match="is a space for 'vta', not 'systolic'"):
        S.run_sweep("systolic", _space(tmp_path))


def test_expand_grid_dict_axes_and_duplicates(tmp_path):
    points = S.expand(S.load_space(_space(tmp_path)), "vta")
    # 2 x 2 grid + one duplicate extra point (dropped) + one new
    assert [(p["LOG_BLOCK"], p["BUS_WIDTH"]) for p in points] == [(2, 64), (2, 128), (3, 64), (3, 128), (4, 64)]
    assert all(p["LOG_WGT_BUFF_SIZE"] == 14 for p in points)
    space = S.load_space(_space(tmp_path, axes={"buf": [{"LOG_INP_BUFF_SIZE": 11, "LOG_ACC_BUFF_SIZE": 12},
                                                        {"LOG_INP_BUFF_SIZE": 12, "LOG_ACC_BUFF_SIZE": 13}]},
                                points=[]))
    assert [(p["LOG_INP_BUFF_SIZE"], p["LOG_ACC_BUFF_SIZE"]) for p in S.expand(space, "vta")] == [(11, 12), (12, 13)]
    shipped = S.load_space(ROOT / "configs" / "sweeps" / "vta.json")
    shipped_points = S.expand(shipped, "vta")
    assert len(shipped_points) >= 12
    for p in shipped_points:      # every shipped point is a valid config that the workload can tile
        cfg = VTAConfig.from_dict(p)
        t = vta_gemm_tiling(cfg, **{k: shipped["workload"][k] for k in ("m", "k", "n")})
        assert t["tm"] * t["tk"] <= cfg.inp_depth and t["tn"] * t["tk"] <= cfg.wgt_depth
        assert t["tm"] * t["tn"] <= cfg.acc_depth


def test_pareto():
    rows = [{"name": n, "status": "ok", "luts": l, "cycles": c}
            for n, l, c in (("a", 100, 900), ("b", 200, 500), ("c", 300, 500), ("d", 150, 950), ("e", 400, 100))]
    rows.append({"name": "f", "status": "error"})
    assert [r["name"] for r in S.pareto(rows)] == ["a", "b", "e"]
    assert [r["pareto"] for r in rows[:5]] == [True, True, False, False, True]


def test_gemm_tiling_minimises_dram_bytes():
    cfg = VTAConfig.load(ROOT / "configs" / "vta" / "b2x8x8_bus256.json")   # inp/wgt/acc depth 64
    t = vta_gemm_tiling(cfg, 16, 256, 256)
    # 8 row groups x 32 x 32 blocks; any tile with tm*tk, tn*tk, tm*tn <= 64: (8, 8, 8) loads 86016 bytes
    assert (t["tm"], t["tn"], t["tk"], t["dram_bytes"]) == (8, 8, 8, 86016)
    with pytest.raises(WorkloadError, match="does not divide into BATCH=2"):
        vta_gemm_tiling(cfg, 15, 256, 256)


def test_sweep_on_dask_with_cache(tmp_path, monkeypatch):
    from dask.distributed import LocalCluster
    import fpga.flow
    import fpga.workloads
    calls = []

    def fake_benchmark(engine, cfg, work_dir, params):
        calls.append(cfg.name)
        assert params == {"m": 16}
        # the bus only matters for the smallest block here
        bus = 1000 * 64 // cfg.BUS_WIDTH if cfg.LOG_BLOCK_IN == 2 else 0
        return {"cycles": 64_000 // cfg.macs_per_cycle + bus, "workload": "fake"}

    def fake_synth(design, family, device, *, dsp, log):
        cfg = design.key["config"]
        luts = 100 * 4 ** cfg["LOG_BLOCK_IN"] + 4 * cfg["BUS_WIDTH"]
        return {"resources": {"luts": luts, "ffs": luts, "brams": 8, "dsps": 0}, "family": family,
                "part": "LFE5U-85F", "fits": luts < 20000, "message": "", "utilisation": {}, "folder": str(tmp_path)}

    monkeypatch.setattr(fpga.workloads, "benchmark", fake_benchmark)
    monkeypatch.setattr(fpga.flow, "synth", fake_synth)
    monkeypatch.setattr(S, "CACHE", tmp_path / "cache")
    space = _space(tmp_path)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        assert S.run_sweep("vta", space, scheduler=cluster.scheduler_address, out=tmp_path / "out") == 0
        assert len(calls) == 5
        result = json.loads((tmp_path / "out" / "sweep.json").read_text())
        by_name = {r["name"]: r for r in result["points"]}
        assert by_name["1x4x4_bus64_u10i11w14a12"]["cycles"] == 64_000 // 16 + 1000
        assert by_name["1x16x16_bus64_u10i11w14a12"]["fits"] is False
        # 8x8 on a 128-bit bus costs more LUTs than on 64 bits for the same cycles: dominated
        assert result["pareto"] == ["1x4x4_bus64_u10i11w14a12", "1x4x4_bus128_u10i11w14a12",
                                    "1x8x8_bus64_u10i11w14a12", "1x16x16_bus64_u10i11w14a12"]
        assert by_name["1x8x8_bus128_u10i11w14a12"]["pareto"] is False
        assert (tmp_path / "out" / "pareto.png").stat().st_size > 10_000
        assert "1x8x8_bus128_u10i11w14a12" in (tmp_path / "out" / "sweep.txt").read_text()
        # rerun: every point from the cache, no task submitted
        assert S.run_sweep("vta", space, scheduler=cluster.scheduler_address, out=tmp_path / "out") == 0
        assert len(calls) == 5
        assert all(r["cached"] for r in json.loads((tmp_path / "out" / "sweep.json").read_text())["points"])


def test_vta_gemm_workload_on_rtl(tmp_path):
    """The real workload on a small config (its Verilator build is shared with tests/test_cli.py)."""
    cfg = VTAConfig.load(ROOT / "configs" / "vta" / "b2x8x8_bus256.json")
    r = benchmark("vta", cfg, tmp_path, {"m": 4, "k": 32, "n": 32})
    t = r["tiling"]
    assert (t["tm"], t["tn"], t["tk"]) == (2, 4, 4) and t["tiles"] == 1
    # every (row group, out block, in block) GEMM uop once, plus the reset uops of the one tile
    assert r["counters"]["gemm_uops"] == 2 * 4 * 4 + 2 * 4
    # the GEMM core retires one uop per cycle at best
    assert r["cycles"] >= r["counters"]["gemm_uops"] and r["macs_per_cycle"] <= cfg.macs_per_cycle
    assert r["macs"] == 4 * 32 * 32
