"""RBE software: config and layer validation, bit-plane layouts, the golden and bit-serial models against each
other over the full precision grid, normalisation/saturation, the runtime's job split, job folders."""

import json
import random

import numpy as np
import pytest

from sw.common.contract import BadInput
from sw.rbe import layout
from sw.rbe.config import RBEConfig
from sw.rbe.golden import bitserial, bitserial_acc, conv, golden, normquant
from sw.rbe.job import load_job, metrics, read_result, run_golden, write_job
from sw.rbe.layer import RBELayer, check_arrays
from sw.rbe.regs import decode_layer, encode_layer
from sw.rbe.runtime import plan_layer
from tb.rbe.cases import make_case, precision_grid, sampled_grid

CFG = RBEConfig()


def _layer(**kw):
    d = dict(mode="3x3", qa=4, qw=4, qao=4, k_in=32, k_out=32, height=5, width=5, relu=True, shift=8)
    d.update(kw)
    return RBELayer(**d)


# --- configuration and layer errors --------------------------------------------------------------------
def test_config_defaults_match_the_spec():
    assert CFG.bin_ops_per_cycle == 10368
    assert CFG.weight_word_bits == 288
    assert CFG.ideal_mac_per_cycle("3x3", 4, 4) == 648
    assert CFG.ideal_mac_per_cycle("1x1", 8, 2) == 144


@pytest.mark.parametrize("key,value,words", [
    ("N_CORES", 5, "N_CORES must be one of 1, 4, 9, not 5"),
    ("BINCONV_WIDTH", 64, "BINCONV_WIDTH must be one of 8, 16, 32"),
    ("ACC_WIDTH", 40, "ACC_WIDTH must be one of 16..32"),
    ("PORT_WIDTH", 288, "PORT_WIDTH must be one of 256, 512, 1024"),
    ("N_BLOCKS", True, "N_BLOCKS must be one of 9"),
])
def test_config_errors_name_the_key(key, value, words):
    with pytest.raises(ValueError, match=words):
        RBEConfig.from_dict({key: value})


def test_config_unknown_key():
    with pytest.raises(ValueError, match="unknown RBE config key 'LOG_BLOCK'"):
        RBEConfig.from_dict({"LOG_BLOCK": 4})


@pytest.mark.parametrize("kw,words", [
    ({"qa": 9}, "layer.qa must be an integer precision from 2 to 8 bits, not 9"),
    ({"qw": 1}, "layer.qw must be an integer precision from 2 to 8"),
    ({"qao": 0}, "layer.qao"),
    ({"mode": "5x5"}, "layer.mode must be one of 3x3, 1x1"),
    ({"shift": 64}, "layer.shift must be an integer from 0 to 63"),
    ({"height": 2}, "layer.height must be an integer from 3"),
    ({"relu": 1}, "layer.relu must be true or false"),
])
def test_layer_errors(kw, words):
    with pytest.raises(ValueError, match=words):
        _layer(**kw)


def test_channels_must_be_multiples_of_the_tile():
    with pytest.raises(ValueError, match=r"layer.k_in=48 must be a multiple of 32 \(BINCONV_WIDTH\); pad .* to 64"):
        _layer(k_in=48).check_config(CFG)
    with pytest.raises(ValueError, match="layer.k_out=33 must be a multiple of 32"):
        _layer(k_out=33).check_config(CFG)


def test_accumulator_overflow_is_refused():
    _layer(qa=8, qw=8, k_in=3680).check_config(CFG)           # 3680*9*254*255 < 2^31
    with pytest.raises(ValueError, match="overflows the 32-bit signed accumulator"):
        _layer(qa=8, qw=8, k_in=3712).check_config(CFG)


def test_values_outside_the_declared_precision():
    lay = _layer(qa=3, qw=3, k_in=32, k_out=32)
    x = np.zeros((5, 5, 32), np.int64)
    w = np.zeros((32, 3, 3, 32), np.int64)
    k, lam = np.ones(32, np.int64), np.zeros(32, np.int64)
    check_arrays(lay, x, w, k, lam)
    x[1, 2, 3] = 8
    with pytest.raises(ValueError, match=r"x\[1, 2, 3\] = 8 is outside QA=3 bits \[0, 7\]"):
        check_arrays(lay, x, w, k, lam)
    x[1, 2, 3] = 0
    w[0, 0, 0, 0] = -4          # the most negative weight is -(2^(QW-1) - 1)
    with pytest.raises(ValueError, match=r"w\[0, 0, 0, 0\] = -4 is outside QW=3 bits \(symmetric\) \[-3, 3\]"):
        check_arrays(lay, x, w, k, lam)
    w[0, 0, 0, 0] = 0
    with pytest.raises(ValueError, match="kappa must have shape"):
        check_arrays(lay, x, w, k[:5], lam)


# --- layouts ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [CFG, RBEConfig(BINCONV_WIDTH=8, PORT_WIDTH=256, N_CORES=1),
                                 RBEConfig(BINCONV_WIDTH=16, PORT_WIDTH=1024)])
@pytest.mark.parametrize("mode", ["3x3", "1x1"])
def test_layout_round_trips(cfg, mode):
    rng = np.random.default_rng(3)
    k = cfg.k_tile
    for qa, qw in ((2, 3), (5, 7), (8, 8)):
        lay = _layer(mode=mode, qa=qa, qw=qw, k_in=2 * k, k_out=3 * k, height=4, width=3)
        x = rng.integers(0, 1 << qa, (4, 3, 2 * k))
        w = rng.integers(-lay.w_offset, lay.w_offset + 1, (3 * k, lay.fs, lay.fs, 2 * k))
        packed = layout.pack_weights(w, lay, cfg)
        assert len(packed) == layout.weight_bytes(cfg, lay)
        assert layout.weight_block_stride(cfg, lay) % cfg.port_bytes == 0
        assert np.array_equal(layout.unpack_weights(packed, lay, cfg), w)
        assert np.array_equal(layout.unpack_act(layout.pack_act(x, qa, cfg), 4, 3, 2 * k, qa, cfg), x)
        s = rng.integers(-(1 << (qa - 1)), 1 << (qa - 1), (4, 3, 2 * k))
        assert np.array_equal(layout.unpack_act(layout.pack_act(s, qa, cfg), 4, 3, 2 * k, qa, cfg, signed=True), s)


def test_activation_layout_bit_positions():
    # docs/rbe.md: chunk ((kt*n_q + q)*H + h)*W + w, word b = bit 4q+b of channels 32kt..32kt+31.
    x = np.zeros((2, 3, 64), np.int64)
    x[1, 2, 33] = 0b10100000          # bits 5 and 7: upper activation tile, words 1 and 3
    raw = np.frombuffer(layout.pack_act(x, 8, CFG), np.uint8)
    chunk = ((1 * 2 + 1) * 2 + 1) * 3 + 2
    words = raw[chunk * 16:(chunk + 1) * 16].view("<u4")
    assert list(words) == [0, 2, 0, 2] and raw.sum() == 2 * 2


def test_weight_layout_bit_positions():
    # 3x3: word (((kot*n_kit + kit)*32 + c)*QW + i)*9 + r holds bit i of W' = W + 2^(QW-1) - 1.
    lay = _layer(qw=3, k_in=64, k_out=32)
    w = np.zeros((32, 3, 3, 64), np.int64) - 3      # W' = 0 everywhere
    w[5, 1, 2, 40] = 2                               # W' = 5 = 0b101: bits 0 and 2
    words = np.frombuffer(layout.pack_weights(w, lay, CFG), np.uint8).view("<u4")
    hits = sorted(np.nonzero(words)[0].tolist())
    expect = [(((0 * 2 + 1) * 32 + 5) * 3 + i) * 9 + 5 for i in (0, 2)]
    assert hits == expect and all(words[h] == 1 << 8 for h in hits)


def test_register_encoding():
    lay = _layer(mode="1x1", qa=5, qw=7, qao=3, relu=False, shift=41)
    assert decode_layer(encode_layer(lay)) == {"mode": 1, "relu": 0, "qa": 5, "qw": 7, "qao": 3, "shift": 41}


# --- arithmetic --------------------------------------------------------------------------------------------
def test_normquant_saturates_signed_outputs_to_the_spec_range():
    lay = _layer(qao=4, relu=False, shift=2, k_out=4)
    acc = np.array([[[100, -100, 29, -33]]])
    y = normquant(acc, np.array([1, 1, 1, 1]), np.array([0, 0, 1, 0]), lay)
    # (29 + 1) >> 2 = 7 stays; -33 >> 2 = -9 saturates to -8; 100 >> 2 = 25 -> 7; -100 >> 2 -> -8
    assert y.tolist() == [[[7, -8, 7, -8]]]
    lay = _layer(qao=4, relu=True, shift=2, k_out=4)
    assert normquant(acc, np.ones(4), np.zeros(4), lay).tolist() == [[[15, 0, 7, 0]]]


def test_normquant_arithmetic_shift_and_wide_product():
    lay = _layer(qao=8, relu=False, shift=40, k_out=2)
    acc = np.array([[[(1 << 31) - 1, -(1 << 31)]]])
    y = normquant(acc, np.array([65535, 65535]), np.array([0, 0]), lay)
    assert y.tolist() == [[[((65535 * ((1 << 31) - 1)) >> 40), -((65535 << 31) >> 40) - 1]]]


def test_bitserial_matches_golden_over_the_full_grid():
    """Both models on all 343 (qa, qw, qao) in both modes, ReLU alternating."""
    seed = 20240601
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    for n, (qa, qw, qao) in enumerate(precision_grid()):
        for mode in ("3x3", "1x1"):
            lay = _layer(mode=mode, qa=qa, qw=qw, qao=qao, k_in=32, k_out=32, height=4, width=4,
                         relu=bool(n % 2), shift=int(rng.integers(0, 16)))
            x = rng.integers(0, 1 << qa, (4, 4, 32))
            w = rng.integers(-lay.w_offset, lay.w_offset + 1, (32, lay.fs, lay.fs, 32))
            assert np.array_equal(bitserial_acc(x, w, lay, CFG), conv(x, w, lay)), (mode, qa, qw)
    case = make_case("c", mode="3x3", qa=6, qw=5, qao=7, k_in=64, k_out=32, height=6, width=5, relu=False, seed=4)
    assert np.array_equal(bitserial(case.x, case.w, case.kappa, case.lam, case.layer, CFG),
                          golden(case.x, case.w, case.kappa, case.lam, case.layer))


def test_golden_is_a_convolution():
    lay = _layer(k_in=32, k_out=32, height=4, width=5)
    rng = np.random.default_rng(9)
    x = rng.integers(0, 16, (4, 5, 32))
    w = rng.integers(-7, 8, (32, 3, 3, 32))
    ref = np.zeros((2, 3, 32), np.int64)
    for i in range(2):
        for j in range(3):
            for o in range(32):
                ref[i, j, o] = int((x[i:i + 3, j:j + 3, :] * w[o].astype(np.int64)).sum())
    assert np.array_equal(conv(x, w, lay), ref)


def test_sampled_grid_is_seeded_and_distinct():
    a, b = sampled_grid(20, 5), sampled_grid(20, 5)
    assert a == b and len(set(a)) == 20 and (2, 2, 2) in a and (8, 8, 8) in a


# --- runtime and jobs ----------------------------------------------------------------------------------
def test_runtime_splits_k_out_into_jobs():
    case = make_case("s", mode="1x1", qa=4, qw=4, qao=5, k_in=32, k_out=96, height=3, width=4, relu=False, seed=1)
    plan = plan_layer(CFG, case.layer, case.x, case.w, case.kappa, case.lam, max_k_out=32)
    assert len(plan.jobs) == 3
    p = plan.placement
    assert [j["norm_base"] - p.norm_base for j in plan.jobs] == [0, 256, 512]
    assert [j["y_base"] - p.y_base for j in plan.jobs] == [0, 2 * 12 * 16, 4 * 12 * 16]
    assert all(j["k_out_tiles"] == 1 for j in plan.jobs)
    one = plan_layer(CFG, case.layer, case.x, case.w, case.kappa, case.lam)
    assert len(one.jobs) == 1 and one.jobs[0]["k_out_tiles"] == 3


def _job(tmp_path, **kw):
    case = make_case("j", mode="3x3", qa=3, qw=5, qao=4, k_in=32, k_out=64, height=5, width=6, relu=False, seed=8)
    return write_job(tmp_path / "job", CFG, case.layer, case.x, case.w, case.kappa, case.lam, **kw), case


def test_job_round_trip_and_golden(tmp_path):
    path, case = _job(tmp_path, cycle_limit=10_000)
    job = load_job(path)
    assert job.layer == case.layer and job.cycle_limit == 10_000
    (tmp_path / "out").mkdir()
    result = run_golden(job, tmp_path / "out")
    result.cycles, result.counters = 1000, {"passes": 3}
    result.metrics.update(metrics(job.layer.macs, 1000, 2000))
    result.write(tmp_path / "out")
    res = read_result(tmp_path / "out")
    assert res["mac_per_cycle"] == round(job.layer.macs / 1000, 3) and res["binary_ops_per_cycle"] == 2.0
    assert res["outputs"] == {"y": "y.npy"} and res["counters"] == {"passes": 3}
    assert np.array_equal(res["y"], golden(case.x, case.w, case.kappa, case.lam, case.layer))


@pytest.mark.parametrize("edit,words", [
    (lambda raw, d: raw["layer"].update(qa=9), "layer.qa must be an integer precision from 2 to 8 bits, not 9"),
    (lambda raw, d: raw["layer"].update(k_in=48), "layer.k_in=48 must be a multiple of 32"),
    (lambda raw, d: raw.update(engine="vta"), "engine must be 'rbe'"),
    (lambda raw, d: raw.pop("kappa"), "missing key 'kappa'"),
    (lambda raw, d: raw.update(extra=1), "unknown key 'extra'"),
    (lambda raw, d: raw["config"].update(PORT_WIDTH=300), "config: PORT_WIDTH must be one of"),
    (lambda raw, d: np.save(d / "x.npy", np.full((5, 6, 32), 8, np.uint8)), r"x\[0, 0, 0\] = 8 is outside QA=3 bits"),
    (lambda raw, d: np.save(d / "w.npy", np.full((64, 3, 3, 32), -16, np.int8)), "outside QW=5 bits"),
    (lambda raw, d: (d / "lambda.npy").write_text("junk"), "lambda.npy: lambda: not a valid .npy array"),
])
def test_bad_jobs_name_the_field(tmp_path, edit, words):
    path, _ = _job(tmp_path)
    raw = json.loads((path / "job.json").read_text())
    edit(raw, path)
    (path / "job.json").write_text(json.dumps(raw))
    with pytest.raises(BadInput, match=words):
        load_job(path)


def test_docs_register_table_is_the_register_map():
    from pathlib import Path

    from sw.rbe.regs import REGS
    text = (Path(__file__).resolve().parent.parent / "docs" / "rbe.md").read_text()
    block = text.split("<!-- regs:begin -->\n")[1].split("<!-- regs:end -->")[0]
    assert block == REGS.markdown()


def test_register_map_offsets_and_counters():
    from sw.rbe.regs import COUNTERS, REGS
    assert [REGS.offset(n) for n in ("control", "layer", "y_base", "error_code", "debug", "cycles", "bin_ops",
                                     "bin_ops_peak", "out_stall")] == [0, 4, 0x24, 0x28, 0x2C, 0x40, 0x54, 0x5C, 0x68]
    assert COUNTERS == ("cycles", "compute_cycles", "offset_cycles", "weight_stall", "patch_stall", "bin_ops",
                        "bin_ops_peak", "store_writes", "passes", "out_stall")
    assert REGS["bin_ops"].words == 2 and REGS.span == 0x6C


def test_example_job_runs_on_the_golden_backend(tmp_path):
    from pathlib import Path

    from sim.cli import main
    ex = Path(__file__).resolve().parent.parent / "examples" / "rbe"
    job = load_job(ex)
    assert job.cfg == RBEConfig() and job.layer.k_in == 64 and job.layer.height == 11
    assert main(["sim", "rbe", "--job", str(ex), "--backend", "golden", "--out", str(tmp_path / "o")]) == 0
    res = read_result(tmp_path / "o")
    assert res["status"] == "ok" and res["outputs"] == {"y": "y.npy"}
    assert np.array_equal(res["y"], golden(job.x, job.w, job.kappa, job.lam, job.layer))
