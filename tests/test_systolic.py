"""Systolic engine without the RTL: config and job errors, the schedule executed by numpy, reference models."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.common.contract import BadInput
from sw.systolic import golden
from sw.systolic import schedule as S
from sw.systolic.config import SystolicConfig
from sw.systolic.job import load_job, read_result, write_conv_job, write_gemm_job
from sw.systolic.layer import ConvLayer, gemm_layer
from tb.systolic.cases import cases_for, random_operands

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs" / "systolic").glob("*.json"))
SMALL = SystolicConfig(R=8, C=8, W=4, MEM_DEPTH=4096, ACC_DEPTH=2048, WGT_DEPTH=64)


# --- config ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,value,words", [
    ("R", 1, "R must be one of 2..128, not 1"),
    ("W", 3, "W must be one of 1, 2, 4, 8, 16, 32, not 3"),
    ("MEM_DEPTH", 1000, "MEM_DEPTH must be one of"),
    ("C", True, "C must be one of 2..128, not True"),
])
def test_config_errors_name_the_key(key, value, words):
    with pytest.raises(ValueError, match=words):
        SystolicConfig.from_dict({key: value})


def test_config_unknown_key_and_derived_widths():
    with pytest.raises(ValueError, match="unknown systolic config key 'ROWS'; allowed keys: R, C, W"):
        SystolicConfig.from_dict({"ROWS": 4})
    cfg = SystolicConfig(R=4, C=12, W=2)
    assert (cfg.n_mems, cfg.word_bits, cfg.wgt_word_bits, cfg.bus_width) == (12, 64, 96, 128)
    assert SystolicConfig(W=32, C=128, R=4).bus_width == 1024


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_configs_load(path):
    cfg = SystolicConfig.load(path)
    assert cfg.to_dict() == json.loads(path.read_text())
    assert all(type(v) is int for v in cfg.to_dict().values())


# --- reference models (values of the spec) -----------------------------------------------------------------

@pytest.mark.parametrize("rc,layer,expect", [
    (16, gemm_layer(64, 64, 64), 1759),
    (8, gemm_layer(100, 50, 30), 3415),
    (16, gemm_layer(128, 64, 256), 11135),
    (8, ConvLayer(1, 10, 10, 4, 8, 3, 3), 429),
    (16, ConvLayer(1, 56, 56, 64, 64, 3, 3), 426_527),
])
def test_scalesim_ws_matches_the_spec(rc, layer, expect):
    assert S.scalesim_ws_cycles(SystolicConfig(R=rc, C=rc), layer) == expect


def test_resnet18_c2_schedule_meets_the_utilisation_target():
    cfg = SystolicConfig.load(ROOT / "configs" / "systolic" / "default.json")
    layer = ConvLayer(1, 56, 56, 64, 64, 3, 3, 1, 1)
    p = S.plan(cfg, layer)
    assert p.folds == 144 and len(p.runs) == 1 and p.stream == layer.positions
    cycles = p.model_cycles()
    assert cycles < S.scalesim_ws_cycles(cfg, layer)
    assert cycles <= 1.05 * S.ideal_ws_cycles(cfg, layer)
    assert layer.macs / (256 * cycles) >= 0.95


def test_multi_tile_fold_count():
    layer = ConvLayer(1, 34, 34, 3, 16, 3, 3)
    p = S.plan(SMALL, layer)
    assert p.tiles == 2 and p.folds == 12
    no_tiles = S.plan(SystolicConfig(R=8, C=8, W=4, MEM_DEPTH=4096, ACC_DEPTH=2048, WGT_DEPTH=64, MAX_TILES=1),
                      layer)
    assert no_tiles.tiles == 1 and no_tiles.folds == 18


# --- the schedule, executed by numpy, equals the convolution --------------------------------------------

def _run_plan_numpy(cfg, layer, x, w):
    p = S.plan(cfg, layer)
    ofmap = np.zeros((layer.batch, layer.out_height, layer.out_width, layer.out_channels), np.int64)
    xp = S.pad_input(layer, x)
    for run in p.runs:
        mem = S.input_image(cfg, layer, run, xp)
        assert mem.shape[1] + run.out_words <= cfg.MEM_DEPTH and run.stream <= cfg.ACC_DEPTH
        out = S.execute_run(cfg, run, mem, S.weight_image(cfg, layer, run, w))
        S.output_from_image(cfg, layer, run, out, ofmap)
    return p, ofmap


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_schedule_reproduces_every_regression_case(path):
    cfg = SystolicConfig.load(path)
    for i, case in enumerate(cases_for(cfg)):
        x, w = random_operands(case.layer, i)
        _, got = _run_plan_numpy(cfg, case.layer, x, w)
        np.testing.assert_array_equal(got, golden.conv2d(case.layer, x, w), err_msg=case.name)


def test_schedule_random_shapes():
    seed = 20240601
    rng = np.random.default_rng(seed)
    print(f"seed {seed}")
    for _ in range(40):
        cfg = SystolicConfig(R=int(rng.choice([2, 4, 8])), C=int(rng.choice([2, 3, 8])), W=int(rng.choice([1, 2, 4, 8])),
                             MEM_DEPTH=int(rng.choice([256, 4096])), ACC_DEPTH=int(rng.choice([64, 1024])),
                             WGT_DEPTH=int(rng.choice([16, 64])), MAX_TILES=int(rng.integers(1, 5)))
        k = int(rng.integers(1, 6))
        s = int(rng.integers(1, 4))
        layer = ConvLayer(int(rng.integers(1, 4)), int(rng.integers(k, 14)), int(rng.integers(k, 14)),
                          int(rng.integers(1, 20)), int(rng.integers(1, 12)), k, k, s, int(rng.integers(0, k)))
        x, w = random_operands(layer, int(rng.integers(1 << 30)))
        try:
            p, got = _run_plan_numpy(cfg, layer, x, w)
        except ValueError as e:
            assert "MEM_DEPTH" in str(e) or "WGT_DEPTH" in str(e), e
            continue
        np.testing.assert_array_equal(got, golden.conv2d(layer, x, w), err_msg=f"{cfg} {layer}")
        # Each word read feeds W cycles: the stream of one fold is a whole number of words.
        assert all(r.stream % cfg.W == 0 and r.stream >= layer.positions // len({(q.oh0, q.oh1) for q in p.runs}) // 4
                   for r in p.runs)


def test_layout_stores_no_lowered_matrix():
    cfg = SystolicConfig.load(ROOT / "configs" / "systolic" / "default.json")
    layer = ConvLayer(1, 56, 56, 64, 64, 3, 3, 1, 1)
    run = S.plan(cfg, layer).runs[0]
    padded = 58 * 58
    stored = run.plane_words * cfg.W          # elements per channel plane, with halos and lane padding
    assert stored <= S.DUP_MAX * padded < 9 * 56 * 56   # the lowered matrix would hold 9 x 56 x 56 per channel


# --- jobs and bad input ---------------------------------------------------------------------------------

def _conv_job(tmp_path, layer=ConvLayer(1, 6, 5, 3, 4, 3, 3, 2, 1), cfg=SMALL):
    x, w = random_operands(layer, 3)
    return write_conv_job(tmp_path / "job", cfg, layer, x, w), x, w


def test_job_round_trip_and_golden_backend(tmp_path, capsys):
    job_dir, x, w = _conv_job(tmp_path)
    job = load_job(job_dir)
    assert job.ifmap.dtype == np.int8 and not job.gemm
    assert main(["sim", "systolic", "--job", str(job_dir), "--backend", "golden"]) == 0
    res = read_result(job_dir / "out-golden")
    assert res["status"] == "ok" and res["macs"] == job.layer.macs and res["cycles"] == S.plan(SMALL, job.layer).model_cycles()
    np.testing.assert_array_equal(np.load(job_dir / "out-golden" / "ofmap.npy"), golden.conv2d(job.layer, x, w))
    assert "SCALE-Sim v2 WS" in capsys.readouterr().out


def test_gemm_job_golden(tmp_path):
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (13, 9), dtype=np.int8)
    b = rng.integers(-128, 128, (9, 6), dtype=np.int8)
    d = write_gemm_job(tmp_path / "g", SMALL, a, b)
    assert main(["sim", "systolic", "--job", str(d), "--backend", "golden", "--out", str(tmp_path / "o")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "c.npy"), a.astype(np.int32) @ b.astype(np.int32))


@pytest.mark.parametrize("edit,words", [
    (lambda raw, d: np.save(d / "ifmap.npy", np.zeros((1, 6, 6, 3), np.int8)),
     r"ifmap: shape must be \(1, 6, 5, 3\), not \(1, 6, 6, 3\)"),
    (lambda raw, d: np.save(d / "weights.npy", np.full((3, 3, 3, 4), 200, np.int16)),
     r"weights: values must lie in -128..127, found 200..200"),
    (lambda raw, d: np.save(d / "ifmap.npy", np.zeros((1, 6, 5, 3), np.float32)),
     "ifmap: dtype float32 not allowed; allowed: signed integers"),
    (lambda raw, d: raw["layer"].update(stride=0), "layer.stride must be an integer >= 1, not 0"),
    (lambda raw, d: raw["layer"].update(colour=1), "layer: unknown key 'colour'"),
    (lambda raw, d: raw["config"].update(W=5), "config: W must be one of 1, 2, 4, 8, 16, 32, not 5"),
    (lambda raw, d: raw.update(engine="vta"), "engine must be 'systolic'"),
    (lambda raw, d: raw.pop("weights"), "missing key 'weights'"),
    (lambda raw, d: raw["config"].update(WGT_DEPTH=4), "WGT_DEPTH: one output-channel fold needs"),
])
def test_bad_jobs_name_the_field(tmp_path, edit, words):
    job_dir, _, _ = _conv_job(tmp_path)
    raw = json.loads((job_dir / "job.json").read_text())
    edit(raw, job_dir)
    (job_dir / "job.json").write_text(json.dumps(raw))
    with pytest.raises(BadInput, match=words):
        load_job(job_dir)
    assert main(["sim", "systolic", "--job", str(job_dir), "--backend", "golden"]) == 2


def test_layer_too_large_for_the_memories(tmp_path):
    cfg = SystolicConfig(R=8, C=8, W=4, MEM_DEPTH=64, ACC_DEPTH=16, WGT_DEPTH=64)
    layer = ConvLayer(1, 3, 300, 3, 4, 3, 3, 2, 1)
    x, w = random_operands(layer, 1)
    with pytest.raises(BadInput, match="cannot be tiled into this configuration: MEM_DEPTH/ACC_DEPTH: one output row"):
        write_conv_job(tmp_path / "big", cfg, layer, x, w)


def test_int32_overflow_is_refused():
    with pytest.raises(ValueError, match="layer.in_channels: a reduction of"):
        S.plan(SMALL, gemm_layer(4, 4, S.INT32_MAX_K + 1))


def test_layout_transforms_round_trip():
    from sw.systolic.layout import hwcn_words_to_nhwc, nchw_to_nhwc, nhwc_to_hwcn_words, nhwc_to_nchw
    x = np.arange(3 * 4 * 5 * 6).reshape(3, 4, 5, 6)              # NCHW
    nhwc = nchw_to_nhwc(x)
    assert nhwc[2, 1, 3, 0] == x[2, 0, 1, 3]
    np.testing.assert_array_equal(nhwc_to_nchw(nhwc), x)
    words = nhwc_to_hwcn_words(nhwc, 2)                          # 3 images in 2 groups of 2 lanes
    assert words.shape == (2, 4, 5, 6, 2)
    assert words[1, 3, 2, 4, 0] == nhwc[2, 2, 4, 3] and words[1, 3, 2, 4, 1] == 0
    np.testing.assert_array_equal(hwcn_words_to_nhwc(words, 3), nhwc)


def test_block_batched_layout_equals_hwcn_when_the_batch_fills_the_word():
    from sw.systolic.layout import nhwc_to_hwcn_words
    cfg = SystolicConfig(R=4, C=4, W=4, MEM_DEPTH=4096, ACC_DEPTH=1024)
    layer = ConvLayer(4, 5, 5, 4, 4, 1, 1)
    x, _ = random_operands(layer, 0)
    run = S.plan(cfg, layer).runs[0]
    assert (run.hb, run.wb, run.groups) == (5, 5, 1)
    img = S.input_image(cfg, layer, run, S.pad_input(layer, x))       # (R, words, W)
    np.testing.assert_array_equal(img, nhwc_to_hwcn_words(x, 4)[0].reshape(4, 25, 4))


def test_docs_register_table_is_the_register_map():
    from sw.systolic.regs import REGS
    text = (Path(__file__).resolve().parent.parent / "docs" / "systolic.md").read_text()
    block = text.split("<!-- regs:begin -->\n")[1].split("<!-- regs:end -->")[0]
    assert block == REGS.markdown()


def test_register_map_offsets():
    from sw.systolic.regs import COUNTERS, DESCRIPTOR_FIELDS, DMA_FIELDS, REGS, register_map
    # byte offsets = 4 x the word addresses of the hand-written decoder (descriptor 1-15, DMA 16-20, counters 32-42)
    assert [REGS.offset(f) for f in DESCRIPTOR_FIELDS] == [4 * (1 + i) for i in range(15)]
    assert [REGS.offset(f"dma_{f}") for f in DMA_FIELDS] == [4 * (16 + i) for i in range(5)]
    assert [REGS.offset(c) for c in ("cycles", "pe_busy", "mem_reads", "min_read_gap", "results")] == \
        [4 * 32, 4 * 33, 4 * 35, 4 * 38, 4 * 42]
    assert set(COUNTERS) == {"cycles", "pe_busy", "mem_reads", "mem_writes", "port_conflicts", "min_read_gap",
                             "wgt_reads", "dma_cycles", "acc_writes", "results"}
    small = register_map(SMALL)
    assert small["nco"].width == SMALL.count_bits and small.span == REGS.span


def test_example_job_golden(tmp_path):
    ex = Path(__file__).resolve().parent.parent / "examples" / "systolic"
    job = load_job(ex)
    assert main(["sim", "systolic", "--job", str(ex), "--backend", "golden", "--out", str(tmp_path / "o")]) == 0
    res = read_result(tmp_path / "o")
    assert res["status"] == "ok" and res["cycles"] == S.plan(job.cfg, job.layer).model_cycles()
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "ofmap.npy"), golden.conv2d(job.layer, job.ifmap,
                                                                                       job.weights))
