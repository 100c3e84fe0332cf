"""The `accelgen` command line: jobs on golden and RTL, bad input, hangs and bad instructions."""

import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sw.vta.job import read_result
from sw.vta.config import VTAConfig
from sw.vta.isa import FinishInsn, GemmInsn, MemInsn, encode_program
from sw.vta.config import MemId, Opcode
from tb.vta.cases import build_case

ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = ROOT / "configs" / "vta" / "b2x8x8_bus256.json"
CFG = VTAConfig.load(CONFIG_FILE)


def _raw_job(path, insns, size=4096, extra=()):
    """A job folder written as is (write_job would refuse the out-of-range ones)."""
    words = encode_program(CFG, insns) + b"".join(int(w).to_bytes(16, "little") for w in extra)
    path.mkdir(parents=True)
    (path / "dram.bin").write_bytes(words)
    (path / "job.json").write_text(json.dumps({"engine": "vta", "config": json.loads(CONFIG_FILE.read_text()),
                                               "dram": {"file": "dram.bin", "size": size},
                                               "insn": {"addr": 0, "count": len(words) // 16},
                                               "cycle_limit": 5000}))
    return path


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
    # result.json follows the contract's schema
    from sw.common.contract import Result
    res = Result.read(job / "out-rtl")
    assert (res.engine, res.backend, res.outputs) == ("vta", "rtl", {"dram": "dram.bin"})
    assert res.metrics["latency"] == 32 and set(res.counters) >= {"cycles", "gemm_uops", "dram_read_beats"}


def test_example_job_runs_on_both_backends(tmp_path):
    ex = ROOT / "examples" / "vta"
    for backend in ("golden", "rtl"):
        out = tmp_path / backend
        assert main(["sim", "vta", "--job", str(ex), "--backend", backend, "--out", str(out)]) == 0
        assert read_result(out)["status"] == "ok"
    assert (tmp_path / "golden" / "dram.bin").read_bytes() == (tmp_path / "rtl" / "dram.bin").read_bytes()


def test_job_outside_dram_is_refused_before_simulation(tmp_path, capsys):
    job = _raw_job(tmp_path / "job", [
        MemInsn(opcode=Opcode.LOAD, memory_type=MemId.INP, dram_base=10_000, y_size=1, x_size=4, x_stride=4),
        FinishInsn()])
    assert main(["sim", "vta", "--job", str(job)]) == 2
    err = capsys.readouterr().err
    assert "instruction 0" in err and "dram" in err.lower()
    assert read_result(job / "out-rtl")["status"] == "error"
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


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
