"""CAP software: config and assembler errors, LUTs exhaustively on the emulator, every op against numpy,
job folder errors, the formulas, and the CLI on the golden backend."""

import json

import numpy as np
import pytest

from sw.cap import formulas
from sw.cap.config import CAPConfig
from sw.cap.emulator import APEmulator
from sw.cap.golden import run_op
from sw.cap.image import pack_entries, unpack_entries
from sw.cap.isa import Op, Program, ProgramError, Uop, decode, encode
from sw.cap.job import JobError, load_cap_job, read_cap_result, write_cap_job
from sw.cap.programs import check_inputs, op_chunks, range_of, reference
from tb.cap.cases import fold_cases, formula_cases, precision_cases, random_cases

CFG = CAPConfig()


# --- config and assembler ---------------------------------------------------------------------------------
@pytest.mark.parametrize("d,msg", [({"rows": 96}, "rows .* must be one of 64, 128, 256, not 96"),
                                   ({"cols": "x"}, "cols"), ({"prog_depth": 100}, "prog_depth"),
                                   ({"segmentation": 1}, "segmentation"), ({"depth": 3}, "unknown CAP config key")])
def test_config_errors(d, msg):
    with pytest.raises(ValueError, match=msg):
        CAPConfig.from_dict(d)


def test_config_roundtrip():
    c = CAPConfig.from_dict({"rows": 128, "cols": 64})
    assert CAPConfig.from_dict(c.to_dict()) == c and c.col_lanes == 2 and c.row_lanes == 1
    assert c.digest() != CFG.digest()


def test_encode_decode_roundtrip():
    u = Uop(Op.VCMP, ((3, 1), (200, 0), (0, 1)), 17, 99)
    assert decode(encode(u)) == u
    assert encode(u) < 1 << 64


@pytest.mark.parametrize("call,msg", [
    (lambda p: p.cmp({1: 1, 2: 0, 3: 1, 4: 0, 5: 1}), "at most 4"),
    (lambda p: p.wr({CFG.cols: 1}), "column index must be 0..127"),
    (lambda p: p.wr({}), "at least one column"),
    (lambda p: p.cmp([(3, 1), (3, 0)]), "appears twice"),
    (lambda p: p.vcmp({CFG.rows: 1}, 0, 3), "row index must be 0..63"),
    (lambda p: p.vcmp({1: 1}, 5, 3), "lo=5 > hi=3"),
    (lambda p: p.ldcol(0, CFG.colbuf_depth), "column-buffer entry must be"),
    (lambda p: p.setcol(0, 2), "SETCOL value"),
    (lambda p: p.svcmp(0, 0, 3), "need a config with segmentation: true"),
])
def test_assembler_errors(call, msg):
    with pytest.raises(ProgramError, match=msg):
        call(Program(CFG))


def test_program_longer_than_memory():
    p = Program(CAPConfig(prog_depth=1024))
    for _ in range(1025):
        p.nop()
    with pytest.raises(ProgramError, match="1025 micro-ops is longer than the program memory"):
        p.words()
    with pytest.raises(ProgramError, match="longer than the program memory"):
        APEmulator(p.cfg).run(np.zeros(1025, np.uint64))


def test_pack_unpack():
    rng = np.random.default_rng(0)
    b = rng.integers(0, 2, size=(5, 128)).astype(bool)
    w = pack_entries(b)
    assert w.dtype == np.uint64 and len(w) == 10
    assert int(w[0]) == sum(int(b[0, k]) << k for k in range(64))
    np.testing.assert_array_equal(unpack_entries(w, 128), b)


# --- emulator primitives --------------------------------------------------------------------------------
def test_compare_write_semantics():
    emu = APEmulator(CFG)
    p = Program(CFG)
    p.setcol(5, 1)
    p.cmp({})                       # empty mask tags every row
    p.wr({6: 1, 7: 1})              # one write sets several columns
    p.vcmp({0: 1}, 5, 6)            # columns 5, 6 of row 0 are 1; 7 is outside the window
    p.vwr({3: 0})
    emu.run(p.words())
    assert emu.cells[:, 5:8].sum() == 3 * CFG.rows - 2
    assert not emu.cells[3, 5] and not emu.cells[3, 6] and emu.cells[3, 7]
    assert emu.counters == {"cycles": 5, "compares": 2, "writes": 3, "reads": 0}


# --- every op against numpy (the LUT programs on the emulator) -----------------------------------------------
@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
@pytest.mark.parametrize("signed", [False, True, "mixed"])
def test_elementwise_exhaustive(op, bits, signed):
    if signed == "mixed" and op != "mul" or signed is not False and op == "mul" and bits < 2:
        pytest.skip("not a valid combination")
    la, ha = range_of(bits, signed is True)
    lb, hb = range_of(bits, signed is not False)
    a, b = (x.reshape(-1) for x in np.meshgrid(np.arange(la, ha + 1), np.arange(lb, hb + 1)))
    res, c, _ = run_op(CFG, op, bits, signed, {"a": a, "b": b})
    np.testing.assert_array_equal(res, reference(op, bits, signed, {"a": a, "b": b}))


@pytest.mark.parametrize("case", precision_cases() + fold_cases(CFG) + random_cases(30, 7), ids=lambda c: c["name"])
def test_op_matches_numpy(case):
    res, counters, runs = run_op(CFG, case["op"], case["bits"], case["signed"], case["inputs"], case["window"])
    arrs = check_inputs(case["op"], case["bits"], case["signed"], case["inputs"], case["window"])
    np.testing.assert_array_equal(res, reference(case["op"], case["bits"], case["signed"], arrs, case["window"]))
    assert counters["cycles"] == counters["compares"] + counters["writes"] + counters["reads"]


@pytest.mark.parametrize("m", range(1, 17))
def test_formulas_exact_for_add_mul_relu(m):
    cases = {c["op"]: c for c in formula_cases(CFG, bits=(m,))}
    for op in ("add", "mul", "relu"):
        c = cases[op]
        _, counters, runs = run_op(CFG, op, m, c["signed"], c["inputs"])
        assert runs == 1 and counters["cycles"] == formulas.formula(op, m), (op, counters)
    _, c, _ = run_op(CFG, "add", m, False, cases["add"]["inputs"])
    assert c == {"cycles": 11 * m + 1, "compares": 4 * m, "writes": 6 * m, "reads": m + 1}
    _, c, _ = run_op(CFG, "mul", m, False, cases["mul"]["inputs"])
    assert c == {"cycles": 8 * m * m + 4 * m, "compares": 4 * m * m, "writes": 4 * m * m + 2 * m, "reads": 2 * m}


def test_precision_is_a_loop_bound():
    """The program grows with M; nothing else (the same config) changes."""
    lens = [sum(len(ch.program) for ch in _chunks("mul", m)) for m in (2, 4, 8)]
    assert lens == [8 * m * m + 4 * m for m in (2, 4, 8)]


def _chunks(op, m):
    arrs = check_inputs(op, m, False, {"a": np.zeros(8, int), "b": np.zeros(8, int)})
    gen = op_chunks(CFG, op, m, False, arrs)
    out = [next(gen)]
    try:
        gen.send((np.zeros((2 * m, CFG.rows), bool), np.zeros((0, CFG.cols), bool)))
    except StopIteration:
        pass
    return out


# --- bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,msg", [
    (("add", 4, False, {"a": [1, 16], "b": [1, 2]}), "input a holds 16, outside the 4-bit unsigned range 0..15"),
    (("add", 4, True, {"a": [1, -9], "b": [1, 2]}), "outside the 4-bit signed range -8..7"),
    (("mul", 4, "mixed", {"a": [-1], "b": [1]}), "unsigned range"),
    (("add", 4, False, {"a": [1, 2], "b": [1]}), "must have the same shape"),
    (("matmul", 4, False, {"a": np.ones((2, 3), int), "b": np.ones((2, 3), int)}), r"must be \(i, j\) and \(j, u\)"),
    (("add", 17, False, {"a": [1], "b": [1]}), "bits must be an integer 1..16"),
    (("conv", 4, False, {"a": [1]}), "op must be one of"),
    (("relu", 4, "mixed", {"a": [1]}), "only for mul and matmul"),
    (("add", 4, False, {"a": [1]}), "missing input 'b'"),
    (("add", 4, False, {"a": [0.5], "b": [1]}), "must hold integers"),
    (("matmul", 4, False, {"a": np.zeros((0, 3), int), "b": np.ones((3, 2), int)}), r"input a is empty \(shape \(0, 3\)\)"),
    (("reduce", 4, False, {"a": np.zeros((2, 0), int)}), "input a is empty"),
])
def test_bad_inputs(args, msg):
    with pytest.raises(ValueError, match=msg):
        check_inputs(*args)


@pytest.mark.parametrize("op,window,msg", [("avgpool", 3, "power of two"), ("maxpool", 5, "multiple of window=5"),
                                           ("maxpool", None, "window must be a positive integer")])
def test_bad_windows(op, window, msg):
    with pytest.raises(ValueError, match=msg):
        check_inputs(op, 4, False, {"a": np.zeros(12, int)}, window)


def test_too_wide_for_the_array():
    small = CAPConfig(cols=64)
    with pytest.raises(ProgramError, match="needs 65 columns, the array has 64"):
        run_op(small, "mul", 16, False, {"a": [1], "b": [1]})


# --- jobs -----------------------------------------------------------------------------------------------
def test_job_roundtrip_and_cli_golden(tmp_path):
    from sim.cli import main
    rng = np.random.default_rng(5)
    ops = [{"op": "add", "bits": 8, "signed": True, "inputs": {"a": rng.integers(-128, 128, 50),
                                                              "b": rng.integers(-128, 128, 50)}},
           {"op": "maxpool", "bits": 4, "signed": False, "inputs": {"a": rng.integers(0, 16, (2, 8))}, "window": 4}]
    job = write_cap_job(tmp_path / "job", CFG, ops)
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden"]) == 0
    res = read_cap_result(job / "out-golden")
    assert res["status"] == "ok" and [o["op"] for o in res["ops"]] == ["add", "maxpool"]
    np.testing.assert_array_equal(res["outputs"][1], ops[1]["inputs"]["a"].reshape(2, 2, 4).max(-1))
    assert res["ops"][0]["cycles"] == 11 * 8      # signed: load 2M + LUT 8M + read M (no carry read)


@pytest.mark.parametrize("edit,msg", [
    (lambda j: j.update(engine="vta"), "engine must be 'cap'"),
    (lambda j: j["ops"][0].update(bits=40), r"ops\[0\]: bits must be an integer 1..16"),
    (lambda j: j["ops"][0].update(colour=1), "unknown key 'colour'"),
    (lambda j: j["ops"][0]["inputs"].update(a="missing.npy"), "file 'missing.npy' not found"),
    (lambda j: j.update(ops=[]), "non-empty list"),
    (lambda j: j["config"].update(rows=5), "config: rows"),
])
def test_bad_jobs(tmp_path, edit, msg):
    job = write_cap_job(tmp_path / "job", CFG, [{"op": "relu", "bits": 4, "signed": True,
                                                 "inputs": {"a": np.array([1, -2])}}])
    raw = json.loads((job / "job.json").read_text())
    edit(raw)
    (job / "job.json").write_text(json.dumps(raw))
    with pytest.raises(JobError, match=msg):
        load_cap_job(job)


def test_bad_job_exit_status(tmp_path):
    from sim.cli import main
    job = write_cap_job(tmp_path / "job", CFG, [{"op": "relu", "bits": 2, "signed": True,
                                                 "inputs": {"a": np.array([1, -3])}}])
    np.save(job / "op0_a.npy", np.array([1, 5]))
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden"]) == 2
    assert "outside the 2-bit signed range" in json.loads((job / "out-golden" / "result.json").read_text())["message"]


def test_program_too_long_for_the_job_config(tmp_path, capsys):
    from sim.cli import main
    small = CAPConfig(prog_depth=1024)
    job = write_cap_job(tmp_path / "job", small, [{"op": "mul", "bits": 16, "signed": False,
                                                   "inputs": {"a": np.array([3]), "b": np.array([5])}}])
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden"]) == 1
    msg = read_cap_result(job / "out-golden")["message"]
    assert "ops[0]: program of 2112 micro-ops is longer than the program memory (prog_depth=1024)" in msg


SEG = CAPConfig(segmentation=True)


def test_segmented_micro_ops():
    emu = APEmulator(SEG)
    p = Program(SEG)
    p.setcol(3, 1)
    p.svcmp(1, 2, 5)                # segments of 4 rows: tag the columns 2..5 set in row 2 of each
    p.svwr(1)
    emu.run(p.words())
    emu.cells[:, :] = False
    emu.cells[2::4, 4] = True
    emu.run(p.words()[1:], clear=False)
    assert emu.cells[0::4, 4].all() and not emu.cells[1::4, 4].any()
    assert emu.counters == {"cycles": 2, "compares": 1, "writes": 1, "reads": 0}
    with pytest.raises(ProgramError, match="segment distance log2 must be 0..5, not 6"):
        p.svwr(6)


@pytest.mark.parametrize("case", precision_cases(seed=9)[::3] + fold_cases(SEG), ids=lambda c: c["name"])
def test_segmented_matches_numpy(case):
    res, counters, _ = run_op(SEG, case["op"], case["bits"], case["signed"], case["inputs"], case["window"])
    arrs = check_inputs(case["op"], case["bits"], case["signed"], case["inputs"], case["window"])
    np.testing.assert_array_equal(res, reference(case["op"], case["bits"], case["signed"], arrs, case["window"]))


def test_segmentation_makes_a_level_two_cycles():
    a = {"a": np.arange(128) % 256}
    _, plain, _ = run_op(CFG, "reduce", 8, False, a)
    _, seg, _ = run_op(SEG, "reduce", 8, False, a)
    # 64 rows hold the 128 values; 63 row pairs over 6 levels: 2 cycles per pair become 2 per level.
    assert plain["cycles"] - seg["cycles"] == 2 * 63 - 2 * 6


# --- the contract: register table, docs, example, result schema ------------------------------------------
def test_docs_register_table_is_the_table():
    from pathlib import Path
    from sw.cap.regs import REGS
    text = (Path(__file__).resolve().parent.parent / "docs" / "cap.md").read_text()
    table = text.split("<!-- regs:begin -->\n", 1)[1].split("<!-- regs:end -->", 1)[0]
    assert table == REGS.markdown()
    assert REGS.counters() == ["cycles", "compares", "writes", "reads"]
    assert [REGS.offset(n) for n in ("ctrl", "prog_len", "status", "cycles", "error_code", "dma_words")] == \
        [0x00, 0x04, 0x20, 0x24, 0x34, 0x38]


def test_manifest_has_the_memory_map():
    from sim.engines import cap
    from sw.cap.regs import REGS
    m = cap.manifest(CFG)
    assert m["registers"] == REGS.manifest() and cap.SPEC.regs() is REGS


def test_example_job_on_the_golden_backend(tmp_path):
    from pathlib import Path
    from sim.cli import main
    from sw.common.contract import RESULT_SCHEMA, Result
    ex = Path(__file__).resolve().parent.parent / "examples" / "cap"
    assert main(["sim", "cap", "--job", str(ex), "--backend", "golden", "--out", str(tmp_path / "g")]) == 0
    res = Result.read(tmp_path / "g")
    assert res.status == "ok" and res.outputs == {"op0": "op0.npy", "op1": "op1.npy", "op2": "op2.npy"}
    assert res.cycles == res.counters["cycles"] == sum(o["cycles"] for o in res.metrics["ops"])
    assert set(RESULT_SCHEMA["required"]) <= set(json.loads((tmp_path / "g" / "result.json").read_text()))
    job = load_cap_job(ex)
    a, b = (job.ops[1]["arrs"][k] for k in "ab")
    np.testing.assert_array_equal(np.load(tmp_path / "g" / "op1.npy"), a @ b)


def test_golden_cycle_limit_is_a_timeout(tmp_path):
    from sim.cli import main
    job = write_cap_job(tmp_path / "job", CFG, [{"op": "relu", "bits": 4, "signed": True,
                                                 "inputs": {"a": np.array([1, -2])}}] * 2)
    out = tmp_path / "o"
    assert main(["sim", "cap", "--job", str(job), "--backend", "golden", "--cycle-limit", "10", "--out",
                 str(out)]) == 1
    res = read_cap_result(out)
    assert res["status"] == "timeout" and "the cycle limit 10" in res["message"] and res["ops"] == []
