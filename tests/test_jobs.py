import json

import numpy as np
import pytest

from sw.common.job import JobError, load_job, write_job, write_result, read_result
from sw.vta.config import VTAConfig, MemId
from sw.vta.isa import MemInsn, FinishInsn, encode_program
from sw.vta.job import validate, config_of
from sw.vta.golden import run_job
from sw.vta.randprog import random_job

CFG = VTAConfig()


def make(tmp_path, **over):
    code = encode_program(CFG, [FinishInsn()])
    p = write_job(tmp_path / "job", "vta", {"LOG_BLOCK": 4}, code, 0, 1)
    raw = json.loads((p / "job.json").read_text())
    for k, v in over.items():
        if v is None:
            raw.pop(k)
        else:
            raw[k] = v
    (p / "job.json").write_text(json.dumps(raw))
    return p


def test_round_trip(tmp_path):
    job = load_job(make(tmp_path))
    assert job.engine == "vta" and job.dram.size == 4096 and job.dram.dtype == np.uint8
    assert (job.insn_addr, job.insn_count, job.cycle_limit) == (0, 1, None)
    assert int(job.dram[0]) == 3 and not job.dram[16:].any()
    assert config_of(job).block_in == 16


@pytest.mark.parametrize("over,match", [
    ({"insn": None}, "missing key 'insn'"),
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"dram": {"file": "dram.bin", "size": "4096"}}, "size must be an integer"),
    ({"dram": {"file": "dram.bin", "size": 0}}, "size must be >= 1"),
    ({"dram": {"file": "nope.bin", "size": 4096}}, "file 'nope.bin' not found"),
    ({"dram": {"file": "dram.bin", "size": 8}}, "more than size=8"),
    ({"insn": {"addr": 8, "count": 1}}, "multiple of 16"),
    ({"insn": {"addr": 4080, "count": 2}}, r"\[4080, 4112\) lie outside"),
    ({"insn": {"addr": 0, "count": 1, "x": 0}}, "unknown key 'x'"),
    ({"cycle_limit": 0}, "cycle_limit must be >= 1"),
    ({"config_file": "c.json"}, "exactly one of 'config'"),
    ({"config": None, "config_file": "missing.json"}, "config_file 'missing.json' not found"),
    ({"engine": 3}, "engine must be a non-empty string"),
])
def test_load_errors(tmp_path, over, match):
    with pytest.raises(JobError, match=match):
        load_job(make(tmp_path, **over))


def test_missing_job_file(tmp_path):
    with pytest.raises(JobError, match="job file not found"):
        load_job(tmp_path)


def test_config_file(tmp_path):
    p = make(tmp_path, config=None, config_file="cfg/vta.json")
    (p / "cfg").mkdir()
    (p / "cfg" / "vta.json").write_text(json.dumps({"LOG_BATCH": 1}))
    assert config_of(load_job(p)).batch == 2


def test_bad_config_names_key(tmp_path):
    with pytest.raises(JobError, match="LOG_BATCH"):
        config_of(load_job(make(tmp_path, config={"LOG_BATCH": 9})))


def test_result_round_trip(tmp_path):
    d = np.arange(10, dtype=np.uint8)
    write_result(tmp_path, "timeout", 123, {"gemm_uops": np.int64(4)}, "stuck", d)
    res = read_result(tmp_path)
    assert (res["status"], res["cycles"], res["counters"], res["message"]) == ("timeout", 123, {"gemm_uops": 4}, "stuck")
    np.testing.assert_array_equal(res["dram"], d)
    with pytest.raises(JobError, match="status must be one of ok, timeout, error"):
        write_result(tmp_path, "fine", 0, {}, "", None)


def _vta_job(tmp_path, insn):
    code = encode_program(CFG, [insn, FinishInsn()])
    return load_job(write_job(tmp_path / "v", "vta", {}, code, 0, 2, size=4096))


def test_validate_dram_range(tmp_path):
    # INP elements are 16 bytes: rows at 250 and 253 -> bytes [4000, 4080) ok; y_size 3 -> 4128 > 4096
    validate(CFG, _vta_job(tmp_path, MemInsn(memory_type=MemId.INP, dram_base=250, y_size=2, x_size=2, x_stride=3)))
    with pytest.raises(JobError, match=r"instruction 0 \(LOAD INP\).*\[4000, 4128\)"):
        validate(CFG, _vta_job(tmp_path, MemInsn(memory_type=MemId.INP, dram_base=250, y_size=3, x_size=2,
                                                 x_stride=3)))


def test_validate_sram_range(tmp_path):
    # acc depth 2048: 2040 + (1+2+1)*(1+1+0) = 2048 fits, one more pad row does not
    validate(CFG, _vta_job(tmp_path, MemInsn(memory_type=MemId.ACC, sram_base=2040, y_size=2, x_size=1,
                                             x_stride=1, y_pad_0=1, y_pad_1=1, x_pad_0=1)))
    with pytest.raises(JobError, match="sram_base=2040 \\+ 10 elements exceeds the ACC scratchpad depth 2048"):
        validate(CFG, _vta_job(tmp_path, MemInsn(memory_type=MemId.ACC, sram_base=2040, y_size=3, x_size=1,
                                                 x_stride=1, y_pad_0=1, y_pad_1=1, x_pad_0=1)))
    with pytest.raises(JobError, match="STORE OUT"):
        validate(CFG, _vta_job(tmp_path, MemInsn(opcode=1, memory_type=MemId.OUT, sram_base=2047, y_size=1,
                                                 x_size=2, x_stride=2)))


def test_validate_skips_undecodable(tmp_path):
    code = (6).to_bytes(16, "little") + encode_program(CFG, [FinishInsn()])
    job = load_job(write_job(tmp_path / "u", "vta", {}, code, 0, 2))
    validate(CFG, job)
    r = run_job(job)
    assert r.status == "error" and "instruction 0" in r.message


def test_random_job_deterministic(tmp_path):
    a = random_job(CFG, 42, tmp_path / "a")
    b = random_job(CFG, 42, tmp_path / "b")
    c = random_job(CFG, 43, tmp_path / "c")
    assert (a / "dram.bin").read_bytes() == (b / "dram.bin").read_bytes() != (c / "dram.bin").read_bytes()
    job = load_job(a)
    validate(config_of(job), job)
    assert run_job(job).status == "ok"


def test_vta_format_lives_in_sw_vta_and_common_re_exports_it():
    import sw.common.job as common
    import sw.vta.job as vta
    for name in ("Job", "load_job", "write_job", "write_result", "read_result", "DRAM_FILE", "INSN_BYTES"):
        assert getattr(common, name) is getattr(vta, name), name
    assert issubclass(common.JobError, ValueError)


@pytest.mark.parametrize("content,match", [(b"", "job file is empty"), (b"\xff\xfe{}", "not UTF-8"),
                                           (b"{", "not valid JSON"), (b"[]", "must hold a JSON object")])
def test_job_file_content_errors(tmp_path, content, match):
    (tmp_path / "job.json").write_bytes(content)
    with pytest.raises(JobError, match=match):
        load_job(tmp_path)


def test_load_refuses_sizes_that_do_not_fit(tmp_path):
    with pytest.raises(JobError, match="size must be <= 67,108,864"):
        load_job(make(tmp_path, dram={"file": "dram.bin", "size": 1 << 40}))


def test_result_schema_and_old_form(tmp_path):
    from sw.common.contract import Result
    write_result(tmp_path / "out-golden", "ok", 0, {"gemm_uops": 1}, "", np.zeros(4, np.uint8))
    r = Result.read(tmp_path / "out-golden")
    assert (r.engine, r.backend, r.outputs) == ("vta", "golden", {"dram": "dram.bin"})
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "result.json").write_text(json.dumps({"status": "ok", "cycles": 5, "counters": {},
                                                               "message": ""}))
    assert read_result(tmp_path / "old")["cycles"] == 5 and read_result(tmp_path / "old")["dram"] is None
