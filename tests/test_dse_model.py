"""sw/dse: the analytic model against the spec's AlexNet CONV3 reproduction target, and its error messages."""

from fractions import Fraction

import pytest

from sw.dse import DseError, Layer, Mapping, evaluate, load_arch, load_layers
from sw.dse.arch import Arch
from sw.dse.layer import read_json

CFG = "configs/dse"


@pytest.fixture(scope="module")
def conv3():
    return load_layers(f"{CFG}/alexnet_conv3_b16.json")[0]


@pytest.fixture(scope="module")
def baseline():
    return load_arch(f"{CFG}/eyeriss_baseline.json")


@pytest.fixture(scope="module")
def eyeriss_mapping(baseline):
    return Mapping.from_dict(read_json(f"{CFG}/eyeriss_conv3_mapping.json"), baseline)


def test_conv3_reproduction_target(conv3, baseline, eyeriss_mapping, capsys):
    from sim.runner import format_table
    r = evaluate(conv3, baseline, eyeriss_mapping)
    with capsys.disabled():
        print("\nAlexNet CONV3 batch 16, Eyeriss-style mapping", r.mapping.dataflow)
        print(format_table(r.rows(), ["level", ("IF acc", "IF_acc"), ("OF acc", "OF_acc"), ("FL acc", "FL_acc"),
                                      ("energy pJ", "total_pJ", ",.2f"), ("share", "share", ".3f")]))
        print(f"total {float(r.total):,.2f} pJ, {r.pj_per_mac:.3f} pJ/MAC, {r.macs:,} MACs")
    assert conv3.sizes == {"IF": 921_600, "OF": 1_038_336, "FL": 884_736}
    assert r.macs == 2_392_326_144
    assert r.counts["RF"] == {"IF": 3456, "OF": 4607, "FL": 2704}
    assert r.hops == {"IF": 144, "OF": 12, "FL": 208}
    assert r.counts["SRAM"] == {"IF": 12, "OF": 7, "FL": 16}
    assert r.counts["DRAM"] == {"IF": 6, "OF": 7, "FL": 1}
    # Exact decimal energies: the spec's digits, not float approximations.
    assert r.level_total("RF") == Fraction("9946550108.16")
    assert r.level_total("array hops") == Fraction("11521843.2")
    assert r.level_total("SRAM") == 649_666_560
    assert r.level_total("DRAM") == 2_736_537_600
    assert r.total == Fraction("13344276111.36")
    assert round(float(r.total), 1) == 13_344_276_111.4
    assert round(r.pj_per_mac, 3) == 5.578
    # 3 x 4 x 13 PEs busy of 256; no bandwidth limit in this architecture.
    assert r.cycles == r.macs / 156 and r.bound == "compute"
    assert r.tiles["RF"] == {"IF": 15, "OF": 104, "FL": 24}


def test_mac_energy_is_an_option(conv3, eyeriss_mapping):
    d = dict(read_json(f"{CFG}/eyeriss_baseline.json"), include_mac=True)
    with_mac = evaluate(conv3, Arch.from_dict(d), eyeriss_mapping)
    assert with_mac.level_total("MAC") == 2_392_326_144 * Fraction("0.075")
    assert with_mac.total == Fraction("13344276111.36") + with_mac.level_total("MAC")


def test_stationarity_depends_on_order(conv3, baseline, eyeriss_mapping):
    # Swap the SRAM loops: K innermost makes IF stationary there (IF 12 -> 6) and OF pays for C (7 -> 2*256-1).
    d = eyeriss_mapping.to_dict(baseline)
    d["temporal"]["SRAM"] = [["K", 2], ["C", 64]]
    r = evaluate(conv3, baseline, Mapping.from_dict(d, baseline))
    assert r.counts["SRAM"] == {"IF": 6, "OF": 511, "FL": 16}
    assert r.hops["IF"] == 6 * 12 and r.hops["OF"] == 256 * 3


@pytest.mark.parametrize("levels, message", [
    # factors that do not multiply to the loop bound
    ({"DRAM": [["B", 16], ["K", 5], ["C", 4]]},
     r"loop K factors 8 \(RF\) x 2 \(SRAM\) x 5 \(DRAM\) x 4 \(spatial\) = 320, but layer 'alexnet_conv3_b16' has K = 384"),
    # a per-PE tile larger than the RF
    ({"RF": [["FX", 3], ["X", 13], ["K", 16]], "DRAM": [["B", 16], ["K", 3], ["C", 4]]},
     r"level RF \(per PE\): tiles IF 15 \+ OF 208 \+ FL 48 elements = 542 B exceed its 512 B"),
])
def test_inconsistent_mapping_is_a_clear_error(conv3, baseline, eyeriss_mapping, levels, message):
    d = eyeriss_mapping.to_dict(baseline)
    d["temporal"].update(levels)
    with pytest.raises(DseError, match=message):
        evaluate(conv3, baseline, Mapping.from_dict(d, baseline))


def test_array_overflow_and_bad_names(conv3, baseline, eyeriss_mapping):
    d = eyeriss_mapping.to_dict(baseline)
    d["spatial"] = [[["FY", 3], ["K", 8]], [["Y", 13]]]
    with pytest.raises(DseError, match=r"array dimension 0 unrolls FY 3 x K 8 = 24 PEs, it has 16"):
        evaluate(conv3, baseline, Mapping.from_dict(d, baseline))
    with pytest.raises(DseError, match=r"unknown loop 'Z'; allowed loops: B, K, C, Y, X, FY, FX"):
        Mapping.from_dict({"temporal": {"RF": [["Z", 2]]}}, baseline)
    with pytest.raises(DseError, match=r"temporal level 'L2' is not a level .*levels: RF, SRAM, DRAM"):
        Mapping.from_dict({"temporal": {"L2": []}}, baseline)
    with pytest.raises(DseError, match=r"layer 'x': K must be a positive integer, not 0"):
        Layer.from_dict({"name": "x", "K": 0, "C": 1, "X": 1, "Y": 1, "FX": 1, "FY": 1})
    with pytest.raises(DseError, match=r"levels\[1\] \(SRAM\): kind must be one of rf, sram, dram, not 'ssd'"):
        Arch.from_dict({"array": [4], "levels": [{"name": "RF", "kind": "rf", "size_bytes": 16},
                                                 {"name": "SRAM", "kind": "ssd"}]})


def test_energy_tables():
    from sw.dse import PAPER_TABLE, EnergyTable, load_energy_table
    assert load_energy_table(f"{CFG}/energy_paper.json") == PAPER_TABLE
    assert PAPER_TABLE.lookup("sram", 131072) == Fraction("13.5")
    assert load_energy_table(f"{CFG}/energy_public.json").lookup("sram", 131072) == 20
    # Outside the table: x2 (RF) and x1.5 (SRAM) per doubling from the nearest entry.
    assert PAPER_TABLE.lookup("rf", 8) == pytest.approx(0.015)
    assert PAPER_TABLE.lookup("sram", 1 << 20) == pytest.approx(30.375 * 1.5)
    # Per-operand precision: an 8-bit tensor costs half a 16-bit access, a 32-bit one twice.
    arch = Arch.from_dict({"array": [2], "bits": {"IF": 8, "OF": 32, "FL": 8},
                           "levels": [{"name": "SRAM", "kind": "sram", "size_bytes": 32768}, {"name": "DRAM", "kind": "dram"}]})
    assert [arch.energy(0, t) for t in ("IF", "OF", "FL")] == [3, 12, 3]
    with pytest.raises(DseError, match=r"sram size 'big' must be a positive integer number of bytes"):
        EnergyTable.from_dict({"rf": {"16": 1}, "sram": {"big": 1}, "dram": 1, "mac": 0, "hop": 0})
