"""xpulpnn: config validation, encoders vs the spec's encodings, assembler macros vs encoders, ELF loading,
the ISS on every ISA test program and on the kernels (vs numpy), trace comparison. No RTL here."""

import random
import struct
from pathlib import Path

import numpy as np
import pytest

from sw.xpulpnn import isa
from sw.xpulpnn.config import RAM_BASE, XpulpNNConfig
from sw.xpulpnn.iss import ISS, dot
from sw.xpulpnn.program import Program, ProgramError, load_elf
from sw.xpulpnn.trace import first_divergence

CFG = XpulpNNConfig()


# --- config ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,msg", [({"ram_kib": 3}, "ram_kib must be one of"), ({"div_cycles": 3}, "div_cycles"),
                                    ({"xpulpnn": 1}, "xpulpnn must be one of"),
                                    ({"xpulpv2": False, "xpulpnn": True}, "needs xpulpv2")])
def test_config_errors_name_the_key(kw, msg):
    with pytest.raises(ValueError, match=msg):
        XpulpNNConfig(**kw)


def test_config_unknown_key_and_roundtrip(tmp_path):
    with pytest.raises(ValueError, match="unknown xpulpnn config key 'ram'"):
        XpulpNNConfig.from_dict({"ram": 4})
    cfg = XpulpNNConfig(ram_kib=64, div_cycles=8)
    assert XpulpNNConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.ram_words_log2 == 14 and cfg.ram_end == RAM_BASE + 65536 and cfg.div_bits_per_cycle == 4
    p = tmp_path / "c.json"
    p.write_text("{bad")
    with pytest.raises(ValueError, match="not valid JSON"):
        XpulpNNConfig.load(p)


# --- encodings from the spec ---------------------------------------------------------------------------------
def test_spec_example_sdotsp_b():
    assert isa.pv_dot("sdotsp", "b", "a0", "a1", "a2") == 0xB8C59557


@pytest.mark.parametrize("op,width,funct7,funct3", [
    ("sdotsp", "n", 0b1011100, 0b010), ("sdotsp", "c", 0b1011101, 0b010), ("dotup", "n", 0b1000000, 0b010),
    ("dotusp", "n", 0b1000100, 0b010), ("dotsp", "n", 0b1001100, 0b010), ("sdotup", "n", 0b1010000, 0b010),
    ("sdotusp", "n", 0b1010100, 0b010), ("dotup", "h", 0b1000000, 0b000), ("sdotsp", "b", 0b1011100, 0b001)])
def test_dot_funct_fields(op, width, funct7, funct3):
    w = isa.pv_dot(op, width, 1, 2, 3)
    assert (w >> 25, (w >> 12) & 7, w & 0x7F) == (funct7, funct3, 0x57)
    sc = isa.pv_dot(op, width, 1, 2, 3, sc=True)
    assert (sc >> 12) & 7 == {0: 4, 1: 5, 2: 3}[funct3]


@pytest.mark.parametrize("kind,funct7", [("up", 0b1110000), ("usp", 0b1110100), ("sup", 0b1101100), ("sp", 0b1111100)])
def test_mls_fields(kind, funct7):
    for width, f3 in (("h", 0), ("b", 1), ("n", 2), ("c", 3)):
        w = isa.pv_mlsdot(kind, width, 10, 11, isa.nn_ctrl(w_update=True, w_index=3, a_index=1))
        assert (w >> 25, (w >> 20) & 31, (w >> 12) & 7, w & 0x7F) == (funct7, 0b10111, f3, 0x77)


def test_decode_roundtrip_every_custom_instruction():
    words = []
    for op in isa.DOT_FUNCT5:
        for w in "hbnc":
            words += [(isa.pv_dot(op, w, 5, 6, 7), f"pv.{op}.{w}"), (isa.pv_dot(op, w, 5, 6, 7, sc=True), f"pv.{op}.sc.{w}")]
        for w in "hb":
            words.append((isa.pv_dot_sci(op, w, 5, 6, 3), f"pv.{op}.sci.{w}"))
    for kind in isa.MLS_FUNCT7:
        for w in "hbnc":
            words.append((isa.pv_mlsdot(kind, w, 5, 6, 9), f"pv.mlsdot{kind}.{w}"))
    for k in ("lb", "lh", "lw", "lbu", "lhu"):
        words += [(isa.p_load(k, 5, 6, -4), f"p.{k}"), (isa.p_load_rr(k, 5, 6, 7), f"p.{k}.rr")]
    for k in ("sb", "sh", "sw"):
        words.append((isa.p_store(k, 5, 6, 8), f"p.{k}"))
    words += [(isa.lp_starti(1, 8), "lp.starti"), (isa.lp_endi(0, 20), "lp.endi"), (isa.lp_count(1, 5), "lp.count"),
              (isa.lp_counti(0, 100), "lp.counti"), (isa.lp_setup(1, 5, 40), "lp.setup"),
              (isa.lp_setupi(0, 7, 12), "lp.setupi")]
    for word, name in words:
        d = isa.decode(word)
        assert d is not None and d.name == name, (hex(word), name, d)
        assert isa.decode(word, xpulpv2=False) is None
    assert isa.decode(isa.pv_dot("dotsp", "n", 1, 2, 3), xpulpnn=False) is None
    assert isa.decode(isa.pv_dot("dotsp", "b", 1, 2, 3), xpulpnn=False).name == "pv.dotsp.b"


def test_sci_immediate_signedness():
    assert isa.decode(isa.pv_dot_sci("dotsp", "b", 1, 2, -1)).imm == -1
    assert isa.decode(isa.pv_dot_sci("dotusp", "b", 1, 2, -32)).imm == -32
    assert isa.decode(isa.pv_dot_sci("dotup", "b", 1, 2, 63)).imm == 63
    with pytest.raises(ValueError, match="imm6 must be an integer from 0 to 63"):
        isa.pv_dot_sci("sdotup", "h", 1, 2, -1)


def test_encoder_errors():
    with pytest.raises(ValueError, match="op must be one of"):
        isa.pv_dot("dot", "b", 1, 2, 3)
    with pytest.raises(ValueError, match="register must be"):
        isa.pv_dot("dotsp", "b", 32, 2, 3)
    with pytest.raises(ValueError, match="end_offset must be even"):
        isa.lp_setup(0, 5, 7)
    with pytest.raises(ValueError, match="w_index"):
        isa.nn_ctrl(w_index=4)


def test_dot_lane_semantics():
    # lane 0 is the low byte; usp: rs1 unsigned, rs2 signed
    assert dot(0x000000FF, 0x000000FF, 8, False, True) == 255 * -1
    assert dot(0x000000FF, 0x000000FF, 8, True, False) == -255
    assert dot(0xFFFFFFFF, 0xFFFFFFFF, 2, True, True) == 16
    assert dot(0x0000000F, 0x00000001, 4, False, False) == 15


# --- assembler macros == Python encoders ---------------------------------------------------------------------
def test_asm_macros_match_encoders(tmp_path):
    from sw.xpulpnn.toolchain import compile_program
    src = tmp_path / "enc.S"
    src.write_text('#include "xpulpnn_insn.h"\n  .section .text.init, "ax", @progbits\n  .globl _start\n_start:\n'
                   "  pv.sdotsp.b a0, a1, a2\n  pv.dotusp.sc.n t0, t1, t2\n  pv.sdotup.sci.h a0, a1, 45\n"
                   "  pv.dotsp.sci.b a0, a1, -3\n  pv.mlsdotsup.c s0, a5, 27\n  p.lhu a0, -6, a1\n  p.lw.rr a0, a2, a1\n"
                   "  p.sh a3, 10, a1\n  lp.setup 1, a0, 1f\n  nop\n  nop\n1:nop\n  lp.setupi 0, 9, 2f\n  nop\n2:nop\n"
                   '  .section .tohost, "aw", @progbits\n  .globl tohost\ntohost: .word 0\n')
    prog = load_elf(compile_program([src], tmp_path / "enc.elf"), CFG)
    text = dict(prog.segments)[RAM_BASE]
    got = list(struct.unpack(f"<{len(text) // 4}I", text))
    want = [isa.pv_dot("sdotsp", "b", "a0", "a1", "a2"), isa.pv_dot("dotusp", "n", "t0", "t1", "t2", sc=True),
            isa.pv_dot_sci("sdotup", "h", "a0", "a1", 45), isa.pv_dot_sci("dotsp", "b", "a0", "a1", -3),
            isa.pv_mlsdot("sup", "c", "s0", "a5", 27), isa.p_load("lhu", "a0", "a1", -6),
            isa.p_load_rr("lw", "a0", "a1", "a2"), isa.p_store("sh", "a3", "a1", 10), isa.lp_setup(1, "a0", 12)]
    assert got[:9] == want
    assert got[12] == isa.lp_setupi(0, 9, 8)


# --- ELF loading ---------------------------------------------------------------------------------------------
def test_elf_errors(tmp_path):
    bad = tmp_path / "x.elf"
    bad.write_bytes(b"not an elf")
    with pytest.raises(ProgramError, match="not an ELF"):
        load_elf(bad)
    p = Program([(0x1000, b"\0" * 8)], 0x1000, 0x1000, name="low")
    with pytest.raises(ProgramError, match="segment 0x00001000-0x00001007 .* lies outside the RAM 0x80000000"):
        p.check(CFG)
    small = XpulpNNConfig(ram_kib=4)
    with pytest.raises(ProgramError, match="ram_kib"):
        Program([(RAM_BASE, b"\0" * 8192)], RAM_BASE, RAM_BASE, name="big").check(small)


# --- the ISS on the ISA suite and the kernels ----------------------------------------------------------------
def test_iss_passes_every_isa_program():
    from sw.xpulpnn.isatests import build_all
    elfs = build_all()
    assert len(elfs) >= 58
    names = set(elfs)
    for must in ("rv32ui-add", "rv32um-divu", "rv32ui-jalr", "xpulp-sdotusp", "xpulp-postinc", "xpulpnn-mlsdotsup",
                 "hwloop", "csr_trap"):
        assert must in names
    for name, elf in elfs.items():
        r = ISS(CFG, load_elf(elf, CFG)).run(200_000)
        assert r.status == "pass", f"{name}: {r.message}"


def test_iss_reports_failing_check():
    # the same program with a corrupted expected value fails at the corrupted check
    from sw.xpulpnn.isatests import generated_tests
    from sw.xpulpnn.toolchain import BUILD_DIR, compile_program
    src = generated_tests()["rv32ui-add"].replace("TEST_RR_OP(5, add, ", "TEST_RR_OP(5, add, 1 + ", 1)
    path = BUILD_DIR / "isa-broken" / "add-broken.S"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(src)
    r = ISS(CFG, load_elf(compile_program([path]), CFG)).run(200_000)
    assert (r.status, r.tohost) == ("fail", 5 << 1 | 1), r.message


def test_iss_errors_and_timeout():
    code = [isa.i_type(isa.OP.OP_IMM, 0, 1, 0, 5), 0xFFFFFFFF]
    prog = Program([(RAM_BASE, b"".join(w.to_bytes(4, "little") for w in code))], RAM_BASE, RAM_BASE + 0x100,
                   name="illegal")
    r = ISS(CFG, prog).run(100)
    assert (r.status, r.pc, r.instret) == ("error", RAM_BASE + 4, 1) and "illegal instruction" in r.message
    spin = Program([(RAM_BASE, isa.j_type(0, 0).to_bytes(4, "little"))], RAM_BASE, RAM_BASE + 0x100, name="spin")
    r = ISS(CFG, spin).run(1000)
    assert r.status == "timeout" and r.instret == 1000


def test_kernels_on_iss_match_numpy():
    from sw.xpulpnn.kernels import INNER, build_inner, build_matmul, check_inner, check_matmul
    for form in INNER:
        k = build_inner(form, iters=8)
        prog = load_elf(k.elf, CFG)
        iss = ISS(CFG, prog)
        assert iss.run(100_000).status == "pass"
        assert check_inner(k, prog, bytes(iss.mem))["ok"], form
    elf, w, a = build_matmul(8, 6, 16)
    prog = load_elf(elf, CFG)
    iss = ISS(CFG, prog)
    assert iss.run(100_000).status == "pass"
    res = check_matmul(prog, bytes(iss.mem), w, a)
    assert res["ok"] and res["macs"] == 8 * 6 * 16


def test_random_streams_are_valid_on_iss():
    from sw.xpulpnn.randstream import random_stream
    seed = random.randrange(1 << 20)
    print(f"seed {seed}")
    statuses = [ISS(CFG, random_stream(seed + i, CFG)).run(100_000).status for i in range(40)]
    assert statuses.count("pass") >= 36, (seed, statuses)
    assert set(statuses) <= {"pass", "error"}


# --- traces ----------------------------------------------------------------------------------------------------
def test_first_divergence():
    a = ["80000000 00100093 x1=00000001", "80000004 b0002773 x14=00000010", "80000008 00208133 x2=00000002"]
    b = ["80000000 00100093 x1=00000001", "80000004 b0002773 x14=00000099", "80000008 00208133 x2=00000003"]
    d = first_divergence(a, b)     # the mcycle read (0xb00) may differ; the add may not
    assert d.index == 2 and d.expected.endswith("00000002") and "add" in str(d)
    assert first_divergence(a, a) is None
    assert first_divergence(a, a[:2]).actual is None


def test_numpy_reference_of_kernels_wraps_int32():
    from sw.xpulpnn.kernels import pack_words
    assert pack_words([1, -1, 2, -2], 8) == [0xFE02FF01]
    assert pack_words([-1] * 16, 2) == [0xFFFFFFFF]
    assert np.iinfo(np.int32).max == 2 ** 31 - 1


def test_c_program_with_custom_instruction_macros():
    from sw.xpulpnn.toolchain import compile_program
    from sw.xpulpnn.isatests import PROGRAM_DIR
    prog = load_elf(compile_program([PROGRAM_DIR.parent / "c" / "dotprod.c"]), CFG)
    iss = ISS(CFG, prog)
    r = iss.run(100_000)
    assert (r.status, r.tohost) == ("pass", 1), r.message
    cycles = [iss.read_word(prog.symbol("cycles") + 4 * i) for i in range(3)]
    assert all(c > 0 for c in cycles) and cycles[1] < cycles[0]     # 16 dot products beat 64 multiply-adds


def test_decoder_respects_disabled_extensions():
    """The RTL decoder (Amaranth simulator): custom encodings are legal only when their extension is on."""
    from amaranth.sim import Simulator
    from hw.xpulpnn.decoder import Decoder
    words = {"add": isa.r_type(isa.OP.OP, 0, 0, 1, 2, 3), "csrr": isa.i_type(isa.OP.SYSTEM, 2, 1, 0, 0xB00),
             "sdotsp.b": isa.pv_dot("sdotsp", "b", 1, 2, 3), "p.lw": isa.p_load("lw", 1, 2, 4),
             "lp.setupi": isa.lp_setupi(0, 3, 12), "dotsp.n": isa.pv_dot("dotsp", "n", 1, 2, 3),
             "mlsdotsp.c": isa.pv_mlsdot("sp", "c", 1, 2, 9), "bad vecop": isa.pv_dot("dotsp", "b", 1, 2, 3) | 1 << 26,
             "bad": 0xFFFFFFFF}
    for cfg in (XpulpNNConfig(), XpulpNNConfig(xpulpnn=False), XpulpNNConfig(xpulpv2=False, xpulpnn=False)):
        dut = Decoder(cfg)
        got = {}

        async def bench(ctx):
            for name, word in words.items():
                ctx.set(dut.insn, word)
                got[name] = ctx.get(dut.ctrl.legal)
        sim = Simulator(dut)
        sim.add_testbench(bench)
        sim.run()
        want = {n: isa.decode(w, xpulpv2=cfg.xpulpv2, xpulpnn=cfg.xpulpnn) is not None for n, w in words.items()}
        assert got == want, (cfg.name, got, want)
        assert want["add"] and not want["bad"] and want["mlsdotsp.c"] == cfg.xpulpnn


# --- the contract: CSR table, docs, example job, ELF checks -------------------------------------------------
def test_docs_csr_table_is_the_table():
    from sw.xpulpnn import regs
    text = (Path(__file__).resolve().parent.parent / "docs" / "xpulpnn.md").read_text()
    table = text.split("<!-- regs:begin -->\n", 1)[1].split("<!-- regs:end -->", 1)[0]
    assert table == regs.markdown()


def test_csr_table_is_what_the_iss_and_the_rtl_implement():
    from sw.xpulpnn import isa as _isa
    from sw.xpulpnn import regs
    from sw.xpulpnn.iss import ISS
    listed = {v for k, v in vars(_isa.CSR).items() if k.isupper() and isinstance(v, int)
              and not k.endswith(("_MASK", "_VALUE", "_MPP"))}
    assert set(regs.implemented()) == listed - {_isa.CSR.MIE, _isa.CSR.MHARTID}   # these two read as 0
    prog = Program([(RAM_BASE, b"\0" * 4)], RAM_BASE, RAM_BASE + 0x100, name="p")
    iss = ISS(CFG, prog)
    for number in regs.implemented():
        iss.csr_read(number)                      # every table CSR exists in the golden model
    assert {c["name"] for c in regs.manifest()} == set(regs.implemented().values())
    from hw.xpulpnn.csr import CsrFile
    from amaranth.back import rtlil
    rtlil.convert(CsrFile(hwloops=True))          # the RTL decoder is built from the table (checks both agree)
    rtlil.convert(CsrFile(hwloops=False))


def test_example_job_on_the_iss(tmp_path):
    from sim.cli import main
    from sw.common.contract import Result
    ex = Path(__file__).resolve().parent.parent / "examples" / "xpulpnn"
    for backend in ("golden", "iss"):
        assert main(["sim", "xpulpnn", "--job", str(ex), "--backend", backend, "--out", str(tmp_path / backend)]) == 0
        r = Result.read(tmp_path / backend)
        assert (r.status, r.metrics["verdict"], r.metrics["tohost"]) == ("ok", "pass", 1)
        assert r.counters == {"cycles": r.cycles, "instret": r.metrics["instret"]} and r.cycles == 40


def test_elf_truncations_never_escape(tmp_path):
    """Every prefix of a real ELF is refused with ProgramError (a BadInput), never another exception."""
    from sw.common.contract import BadInput
    raw = (Path(__file__).resolve().parent.parent / "examples" / "xpulpnn" / "dot.elf").read_bytes()
    f = tmp_path / "t.elf"
    for n in list(range(0, 120)) + list(range(120, len(raw), 97)):
        f.write_bytes(raw[:n])
        with pytest.raises(BadInput):
            load_elf(f, CFG)
