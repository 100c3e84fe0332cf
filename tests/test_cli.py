"""The `accelgen` command line: jobs on golden and RTL, bad input, hangs and bad instructions."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.common.job import read_result
from sw.vta.config import VTAConfig
from sw.vta.isa import FinishInsn, GemmInsn, MemInsn, encode_program
from sw.vta.config import MemId, Opcode
from tb.vta.cases import build_case

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "configs" / "vta" / "b2x8x8_bus256.json"
CFG = VTAConfig.load(CONFIG_FILE)


def _raw_job(path, insns, size=4096, extra=()):
    from sw.common.job import write_job
    words = encode_program(CFG, insns) + b"".join(int(w).to_bytes(16, "little") for w in extra)
    return write_job(path, "vta", json.loads(CONFIG_FILE.read_text()), words, 0, len(words) // 16,
                     cycle_limit=5000, size=size)


def test_golden_and_rtl_agree_on_a_job(tmp_path, capsys):
    case = build_case("gemm_2threads", CFG)
    job = case.program.write_job(tmp_path / "job")
    assert main(["sim", "vta", "--job", str(job), "--backend", "golden"]) == 0
    assert main(["sim", "vta", "--job", str(job), "--backend", "rtl"]) == 0
    g, r = read_result(job / "out-golden"), read_result(job / "out-rtl")
    assert g["status"] == r["status"] == "ok"
    assert r["cycles"] > 0 and r["counters"]["gemm_uops"] == g["counters"]["gemm_uops"]
    np.testing.assert_array_equal(r["dram"], g["dram"])
    case.check(r["dram"])
    assert "status ok" in capsys.readouterr().out


def test_job_outside_dram_is_refused_before_simulation(tmp_path, capsys):
    job = _raw_job(tmp_path / "job", [
        MemInsn(opcode=Opcode.LOAD, memory_type=MemId.INP, dram_base=10_000, y_size=1, x_size=4, x_stride=4),
        FinishInsn()])
    assert main(["sim", "vta", "--job", str(job)]) == 2
    err = capsys.readouterr().err
    assert "instruction 0" in err and "dram" in err.lower()
    assert read_result(job / "out-rtl")["status"] == "error"


def test_deadlock_is_a_timeout_naming_module_and_queue(tmp_path):
    job = _raw_job(tmp_path / "job", [GemmInsn(pop_prev=True, reset=True, uop_bgn=0, uop_end=1), FinishInsn()])
    assert main(["sim", "vta", "--job", str(job)]) == 1
    r = read_result(job / "out-rtl")
    assert r["status"] == "timeout"
    assert "compute waits on pop_prev (queue load->compute is empty) at instruction 0" in r["message"]


def test_unknown_opcode_is_an_error_with_its_index(tmp_path):
    job = _raw_job(tmp_path / "job", [MemInsn(opcode=Opcode.LOAD, memory_type=MemId.UOP, x_size=0)],
                   extra=[0x6, FinishInsn().encode(CFG)])
    assert main(["sim", "vta", "--job", str(job)]) == 1
    r = read_result(job / "out-rtl")
    assert r["status"] == "error" and "instruction 1" in r["message"] and "opcode" in r["message"]


@pytest.mark.parametrize("bad,key", [({"LOG_BATCH": 7}, "LOG_BATCH"), ({"BUS_WIDTH": 96}, "BUS_WIDTH"),
                                     ({"LOG_ACC_BUFF_SIZE": 19}, "LOG_ACC_BUFF_SIZE"),
                                     ({"LOG_UOP_BUFF_SIZE": 18}, "LOG_UOP_BUFF_SIZE")])
def test_bad_config_names_the_key(tmp_path, capsys, bad, key):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert main(["verilog", "vta", "--config", str(path), "--out", str(tmp_path / "v")]) == 2
    assert key in capsys.readouterr().err


def test_verilog_writes_core_config_and_manifest(tmp_path):
    assert main(["verilog", "vta", "--config", str(CONFIG_FILE), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "vta.v").read_text()
    assert "module vta(" in text.replace(" (", "(")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["macs_per_cycle"] == 2 * 8 * 8 and manifest["bus_width"] == 256
    assert VTAConfig.from_dict(json.loads((tmp_path / "config.json").read_text())) == CFG
