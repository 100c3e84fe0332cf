"""CAP test cases shared by the golden-model tests (pytest) and the RTL regression (cocotb).

Every case is one operation with computed inputs: every op at M = 1..8 and 16, unsigned and signed (and
unsigned x signed for mul/matmul), random values plus the edge values (zero, maximum, most negative);
folding cases (data larger than the array); single-chunk formula cases; and seeded random cases.
"""

import numpy as np

from sw.cap.programs import OPS, range_of

__all__ = ["precision_cases", "fold_cases", "formula_cases", "random_cases", "make_inputs", "BITS", "variants"]

BITS = (1, 2, 3, 4, 5, 6, 7, 8, 16)


def variants(op, bits):
    out = [False, True]
    if op in ("mul", "matmul"):
        out.append("mixed")
        if bits < 2:
            out = [False]
    return out


def _values(rng, bits, sgn, shape):
    lo, hi = range_of(bits, sgn)
    v = rng.integers(lo, hi + 1, size=shape, dtype=np.int64)
    flat = v.reshape(-1)
    edges = [0, hi, lo] + ([-1] if sgn else [1])
    for k, e in enumerate(edges[:flat.size]):
        flat[(k * 7) % flat.size] = e
    return v


def make_inputs(rng, op, bits, signed, shape):
    """Inputs for ``op``; ``shape`` is the shape of a (and of b for elementwise ops), or (i, j, u) for matmul."""
    sa = signed is True
    sb = signed is not False
    if op == "matmul":
        i, j, u = shape
        return {"a": _values(rng, bits, sa, (i, j)), "b": _values(rng, bits, sb, (j, u))}
    if op in ("add", "sub", "mul"):
        b = _values(rng, bits, sb, shape)
        if op in ("add", "sub") and b.size > 3:
            b.reshape(-1)[3] = range_of(bits, sb)[1]        # max + max, max - min...
        return {"a": _values(rng, bits, sa, shape), "b": b}
    return {"a": _values(rng, bits, sa, shape)}


SHAPES = {"add": (40,), "sub": (40,), "mul": (40,), "relu": (40,), "reduce": (2, 20), "maxpool": (3, 16),
          "avgpool": (2, 16), "matmul": (3, 6, 4)}
WINDOWS = {"maxpool": 4, "avgpool": 8}


def _case(name, op, bits, signed, inputs, window=None):
    return {"name": name, "op": op, "bits": bits, "signed": signed, "inputs": inputs, "window": window}


def precision_cases(seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for op in OPS:
        for bits in BITS:
            for signed in variants(op, bits):
                inputs = make_inputs(rng, op, bits, signed, SHAPES[op])
                out.append(_case(f"{op}_m{bits}_{_sname(signed)}", op, bits, signed, inputs, WINDOWS.get(op)))
    return out


def _sname(signed):
    return {False: "u", True: "s", "mixed": "us"}[signed]


def fold_cases(cfg, seed=2):
    """Data larger than the array: several runs per operation."""
    rng = np.random.default_rng(seed)
    r = cfg.rows
    return [
        _case("fold_add", "add", 8, True, make_inputs(rng, "add", 8, True, (2 * r + 5,))),
        _case("fold_mul", "mul", 6, "mixed", make_inputs(rng, "mul", 6, "mixed", (r + 3,))),
        _case("fold_reduce", "reduce", 6, False, make_inputs(rng, "reduce", 6, False, (2, 2 * r + 44))),
        _case("fold_reduce_signed", "reduce", 5, True, make_inputs(rng, "reduce", 5, True, (3 * r + 1,))),
        _case("fold_matmul", "matmul", 4, True, make_inputs(rng, "matmul", 4, True, (2, r + 36, 2))),
        _case("fold_maxpool", "maxpool", 7, True, make_inputs(rng, "maxpool", 7, True, (2, 3 * r)), 3 * r),
        _case("fold_avgpool", "avgpool", 5, False, make_inputs(rng, "avgpool", 5, False, (4 * r,)), 4 * r),
    ]


def formula_cases(cfg, bits=BITS, seed=3):
    """Unsigned single-run cases whose shapes fill the array, with the parameters of the spec's formulas."""
    rng = np.random.default_rng(seed)
    r = cfg.rows
    out = []
    for m in bits:
        out.append(_case(f"f_add_m{m}", "add", m, False, make_inputs(rng, "add", m, False, (r,))) | {"f": {}})
        out.append(_case(f"f_mul_m{m}", "mul", m, False, make_inputs(rng, "mul", m, False, (r,))) | {"f": {}})
        out.append(_case(f"f_relu_m{m}", "relu", m, True, make_inputs(rng, "relu", m, True, (r,))) | {"f": {}})
        out.append(_case(f"f_reduce_m{m}", "reduce", m, False, make_inputs(rng, "reduce", m, False, (2 * r,)))
                   | {"f": {"L": 2 * r}})
        j = 8
        iu = r // j
        out.append(_case(f"f_matmul_m{m}", "matmul", m, False,
                         make_inputs(rng, "matmul", m, False, (iu // 2, j, 2))) | {"f": {"i": iu // 2, "j": j, "u": 2}})
        s, k = 4, r // 2
        out.append(_case(f"f_maxpool_m{m}", "maxpool", m, False,
                         make_inputs(rng, "maxpool", m, False, (k * s,)), s) | {"f": {"S": s, "K": k}})
        out.append(_case(f"f_avgpool_m{m}", "avgpool", m, False,
                         make_inputs(rng, "avgpool", m, False, (k * s,)), s) | {"f": {"S": s, "K": k}})
    return out


def random_cases(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        op = OPS[rng.integers(len(OPS))]
        bits = int(rng.integers(1, 17))
        signed = variants(op, bits)[rng.integers(len(variants(op, bits)))]
        window = None
        if op == "matmul":
            shape = tuple(int(x) for x in rng.integers(1, 9, size=3))
        elif op in ("maxpool", "avgpool"):
            window = int(2 ** rng.integers(0, 5)) if op == "avgpool" else int(rng.integers(1, 12))
            shape = (int(rng.integers(1, 4)), window * int(rng.integers(1, 6)))
        else:
            shape = (int(rng.integers(1, 4)), int(rng.integers(1, 40)))
        out.append(_case(f"random{k}_{op}_m{bits}_{_sname(signed)}", op, bits, signed,
                         make_inputs(rng, op, bits, signed, shape), window))
    return out
