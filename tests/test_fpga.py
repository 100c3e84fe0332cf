"""FPGA flows: device tables, fit verdicts, real yosys/nextpnr runs on the MemCopy fixture (seconds each),
the "does not fit" path, the accelgen synth/pnr command line's input errors, and the cache."""

from pathlib import Path

import pytest

from fpga.devices import DEVICES, FAMILIES, device, family
from fpga.flow import Design, engine_design, fit_check, format_report, pnr, resources_of, synth
from fpga.harness import PortHarness, port_bits
from sim.cli import main
from tb.common.memcopy import MemCopy

ROOT = Path(__file__).resolve().parent.parent
MEMCOPY_SRC = (str(ROOT / "tb" / "common" / "memcopy.py"), str(ROOT / "fpga" / "harness.py"))


def _memcopy(width=64, *, harness=False, **kw):
    def make():
        mc = MemCopy(width, **kw)
        return PortHarness(mc) if harness else mc
    return Design(top="memcopy_ooc" if harness else "memcopy", label=f"memcopy-w{width}",
                  make_top=make, key={"width": width, **kw, "harness": harness}, extra_files=MEMCOPY_SRC)


def test_family_and_device_errors():
    assert device("ecp5").name == "85k" and device("ice40").part.startswith("iCE40UP5K")
    with pytest.raises(ValueError, match="family must be one of ecp5, ice40, gowin, xilinx, not 'vivado'"):
        family("vivado")
    with pytest.raises(ValueError, match="device for family ice40 must be one of hx8k, up5k, not '85k'"):
        device("ice40", "85k")
    assert not FAMILIES["xilinx"].has_pnr and all(FAMILIES[f].has_pnr for f in ("ecp5", "ice40", "gowin"))
    for d in DEVICES.values():
        assert set(d.capacity) >= {"luts", "ffs", "brams", "dsps", "ios"} and d.family in FAMILIES


def test_resources_and_fit_verdict():
    cells = {"LUT4": 100, "CCU2C": 10, "TRELLIS_FF": 50, "DP16KD": 3, "MULT18X18D": 2, "PFUMX": 9}
    assert resources_of(cells, FAMILIES["ecp5"]) == {"luts": 120, "ffs": 50, "brams": 3, "dsps": 2}
    cap = {"luts": 100, "ffs": 100, "brams": 2, "dsps": 4, "ios": 10}
    fits, util, msg = fit_check({"luts": 120, "ffs": 50, "brams": 3, "dsps": 2}, cap, "PART")
    assert not fits and util == {"luts": 1.2, "ffs": 0.5, "brams": 1.5, "dsps": 0.5}
    assert msg == "does not fit PART: 120% of LUTs (120/100), 150% of BRAMs (3/2)"
    fits, _, msg = fit_check({"luts": 100, "ffs": 1, "brams": 0, "dsps": 0, "ios": 99}, cap, "PART")
    assert fits and msg == ""   # I/Os only count where checked (place-and-route)
    assert not fit_check({"luts": 1, "ios": 11}, cap, "PART", check=("luts", "ios"))[0]


@pytest.mark.filterwarnings("ignore::amaranth._unused.UnusedMustUse")
def test_harness_counts_every_port_bit():
    mc = MemCopy(64)
    ins, outs = port_bits(mc)
    # host: addr 8 + w_data 32 + w_stb 1 in, r_data 32 out; mem: rd_req (29 + 8 + valid) out, ready in;
    # rd_resp (64 + last + valid) in, ready out; wr (29 + 64 + 8 + valid) out, ready in; busy, done out.
    assert sum(len(v) for _, v in ins) == 8 + 32 + 1 + 1 + 66 + 1
    assert sum(len(v) for _, v in outs) == 32 + 38 + 1 + 102 + 2
    h = PortHarness(mc)
    assert (h.in_bits, h.out_bits) == (109, 175)


def test_synth_memcopy_ice40_and_cache(tmp_path):
    r = synth(_memcopy(), "ice40", root=tmp_path)
    assert r["status"] == "ok" and r["fits"] and r["synthesis_only"] and not r.get("cached")
    # 8 32-bit registers (src, dst, count, cycles, rd/wr address and words left) at least
    assert r["resources"]["ffs"] >= 8 * 32
    # the 64 x 64-bit read FIFO: iCE40 block RAMs are 256 x 16, so four side by side
    assert r["resources"]["brams"] == 4
    assert r["utilisation"]["brams"] == round(4 / 30, 4)
    assert "synthesis only" in r["note"] and "BRAMs" in format_report(r)
    again = synth(_memcopy(), "ice40", root=tmp_path)
    assert again["cached"] and again["resources"] == r["resources"]


def test_synth_xilinx_is_synthesis_only(tmp_path):
    from fpga.uart import UARTTx
    d = Design(top="uart_tx", label="uart_tx", make_top=lambda: UARTTx(217), key={"divisor": 217})
    x = synth(d, "xilinx", root=tmp_path)
    assert x["part"].startswith("xc7z020") and "Xilinx figures are synthesis only" in x["note"]
    assert x["synthesis_only"] and x["status"] == "ok"
    # 10-bit shift register whose top (stop) bit is constant 1, 4-bit bit counter, 8-bit timer (217 < 256)
    assert x["resources"]["ffs"] == 9 + 4 + 8
    assert x["resources"]["luts"] == sum(n for c, n in x["cells"].items() if c.startswith("LUT"))


def test_pnr_memcopy_ice40(tmp_path):
    r = pnr(_memcopy(harness=True), "ice40", "hx8k", root=tmp_path)
    assert r["status"] == "ok" and r["fits"] and not r["synthesis_only"]
    assert r["harness"] == {"in_bits": 109, "out_bits": 175, "note": r["harness"]["note"]}
    assert r["capacity"]["luts"] == 7680 and r["capacity"]["brams"] == 32   # as nextpnr reports them
    assert r["resources"]["ios"] == 5            # clk, rst, sin, load, sout
    assert r["resources"]["ffs"] >= 109 + 175 + 8 * 32
    assert 20 < r["fmax_mhz"] < 500 and r["seed"] == 1
    assert (Path(r["folder"]) / "nextpnr.log").exists()


def test_does_not_fit_is_reported(tmp_path):
    # A 4096 x 64-bit FIFO needs 64 iCE40 block RAMs (256 x 16 each); the UP5K has 30.
    big = _memcopy(64, max_burst=256, fifo_depth=4096)
    r = synth(big, "ice40", "up5k", root=tmp_path)
    assert r["status"] == "does not fit" and not r["fits"]
    assert r["resources"]["brams"] == 64
    assert f"does not fit iCE40UP5K-SG48: {64 / 30 * 100:.0f}% of BRAMs (64/30)" in r["message"]
    big_ooc = _memcopy(64, harness=True, max_burst=256, fifo_depth=4096)
    p = pnr(big_ooc, "ice40", "up5k", root=tmp_path)
    assert p["status"] == "does not fit" and p["fmax_mhz"] is None and "% of BRAMs" in p["message"]
    assert not (Path(p["folder"]) / "nextpnr.log").exists()   # nextpnr not attempted


def test_cli_input_errors(capsys):
    assert main(["synth", "vta", "--family", "ice40", "--device", "85k"]) == 2
    assert "device for family ice40 must be one of hx8k, up5k, not '85k'" in capsys.readouterr().err
    assert main(["pnr", "vta", "--config", "no/such.json"]) == 2
    assert "bad config no/such.json" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["pnr", "vta", "--family", "xilinx"])      # no open place-and-route: not a choice
    assert "invalid choice: 'xilinx'" in capsys.readouterr().err


def test_engine_design_is_generic():
    from sim import engines
    for name in engines.names():
        mod = engines.get(name)
        cfg = mod.load_config(ROOT / mod.DEFAULT_CONFIG)
        d = engine_design(name, cfg, harness=True)
        assert d.top == f"{name}_ooc" and d.label == f"{name}-{cfg.name}" and d.key["config"] == cfg.to_dict()
        assert any(str(f).endswith(f"sim/engines/{name}.py") for f in d.extra_files)
