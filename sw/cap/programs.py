"""LUT programs: each CAP operation at any precision M, as micro-ops plus the data layout around them.

An operation is a generator (:func:`op_chunks`) that yields :class:`Chunk` runs (one program plus the column
and row buffer contents it loads) and receives each run's outputs, so the same code drives the emulator
(golden model) and the RTL; data larger than the array is folded over several runs. The precision is only
a loop bound: every precision runs on the same hardware ("bit fluidity").

Phases of every program, as in the BF-IMNA formulas: load (LDCOL/LDROW/SETCOL of operands, counted as writes),
compute (LUT passes: one compare + one write each), read (RDCOL/RDROW, counted as reads).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .config import CAPConfig
from .isa import Program, ProgramError

__all__ = ["Chunk", "OPS", "OpRun", "op_chunks", "check_inputs", "reference", "run_generator",
           "add_lut", "sub_lut", "max_lut", "ADD_LUT", "SUB_LUT"]

OPS = ("add", "sub", "mul", "reduce", "matmul", "relu", "maxpool", "avgpool")

#: Addition B <- A + B with carry Cr: (A, B, Cr) searched -> (B, Cr) written, in this order (spec section 2).
ADD_LUT = (((1, 1, 0), (0, 1)), ((1, 0, 0), (1, 0)), ((0, 0, 1), (1, 0)), ((0, 1, 1), (0, 1)))
#: Subtraction B <- B - A with borrow Br: (A, B, Br) -> (B, Br), in this order.
SUB_LUT = (((1, 0, 0), (1, 1)), ((1, 1, 0), (0, 0)), ((0, 1, 1), (0, 0)), ((0, 0, 1), (1, 1)))


@dataclasses.dataclass
class Chunk:
    """One run of the CAP.

    Attributes
    ----------
    program : Program
    col_in : numpy.ndarray of bool, shape (n, rows)
        Column-buffer entries 0..n-1 before the run.
    row_in : numpy.ndarray of bool, shape (n, cols)
        Row-buffer entries 0..n-1 before the run.
    col_out, row_out : (first, count)
        Buffer entries the runtime reads back after the run.
    """

    program: Program
    col_in: np.ndarray
    row_in: np.ndarray
    col_out: tuple = (0, 0)
    row_out: tuple = (0, 0)


class _Builder:
    """A program plus its column/row buffer images and an entry allocator."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.p = Program(cfg)
        self.col_in = []
        self.row_in = []

    def col_entry(self, vec):
        v = np.zeros(self.cfg.rows, bool)
        v[:len(vec)] = vec
        self.col_in.append(v)
        return len(self.col_in) - 1

    def load_bits(self, cols, values, width, n_rows=None):
        """LDCOL ``width`` bit columns of ``values`` (two's complement) into ``cols``."""
        u = np.asarray(values, dtype=np.int64)
        for j in range(width):
            self.p.ldcol(cols[j], self.col_entry((u >> j) & 1))

    def chunk(self, col_reads=(), row_reads=()):
        """Emit RDCOL of ``col_reads`` (columns) / RDROW of ``row_reads`` (rows) and close the chunk."""
        first_c = len(self.col_in)
        for k, c in enumerate(col_reads):
            if first_c + k >= self.cfg.colbuf_depth:
                raise ProgramError(f"{first_c + len(col_reads)} column-buffer entries needed, the buffer has "
                                   f"{self.cfg.colbuf_depth} (colbuf_depth)")
            self.p.rdcol(c, first_c + k)
        for k, r in enumerate(row_reads):
            self.p.rdrow(r, k)
        col_in = np.array(self.col_in, bool).reshape(-1, self.cfg.rows)
        row_in = np.zeros((0, self.cfg.cols), bool)
        self.p.words()          # raises if the program does not fit the program memory
        return Chunk(self.p, col_in, row_in, (first_c, len(col_reads)), (0, len(row_reads)))


def _cols_check(cfg, need, what):
    if need > cfg.cols:
        raise ProgramError(f"{what} needs {need} columns, the array has {cfg.cols} (cols)")


# --- LUT passes ------------------------------------------------------------------------------------------
def add_lut(p, a, b, cr, gate=()):
    """B <- A + B over the bit columns ``a``, ``b`` (LSB first), carry in column ``cr`` (zero at start)."""
    for aj, bj in zip(a, b):
        for (sa, sb, sc), (wb, wc) in ADD_LUT:
            p.pass_({**dict(gate), aj: sa, bj: sb, cr: sc}, {bj: wb, cr: wc})


def sub_lut(p, a, b, br, gate=()):
    """B <- B - A over the bit columns, borrow in column ``br`` (zero at start; 1 at the end iff B < A)."""
    for aj, bj in zip(a, b):
        for (sa, sb, sc), (wb, wc) in SUB_LUT:
            p.pass_({**dict(gate), aj: sa, bj: sb, br: sc}, {bj: wb, br: wc})


def max_lut(p, a, b, d, g, signed):
    """B <- max(A, B): MSB-first decision into flags D (decided) and G (A > B), then a conditional copy.

    The flags must be zero at the start.
    """
    m = len(a)
    for j in reversed(range(m)):
        hi, lo = (0, 1) if (signed and j == m - 1) else (1, 0)   # at the sign bit a 0 is the larger
        p.pass_({d: 0, a[j]: hi, b[j]: lo}, {g: 1, d: 1})
        p.pass_({d: 0, a[j]: lo, b[j]: hi}, {d: 1})
    for j in range(m):
        p.pass_({g: 1, a[j]: 1}, {b[j]: 1})
        p.pass_({g: 1, a[j]: 0}, {b[j]: 0})


def mul_lut(p, a, b, r, f, mode):
    """R <- A x B (R 2M columns, zero at start). ``mode``: "unsigned", "mixed" (A unsigned, B signed) or
    "signed"; ``f`` is a zero scratch column (the borrow of the signed fix-up)."""
    m = len(a)
    for i in range(m):
        gate = {b[i]: 1}
        dst = r[i:i + m]
        if i == m - 1 and mode != "unsigned":
            # The multiplier's sign bit weighs -2^(M-1): subtract instead of add; the borrow lands in
            # R_{2M-1}, which is still zero and becomes the sign of the product.
            sub_lut(p, a, dst, r[i + m], gate)
        else:
            add_lut(p, a, dst, r[i + m], gate)
    if mode == "signed":
        # A's sign bit weighs -2^M: subtract B from the top half (modulo 2^2M).
        sub_lut(p, b, r[m:2 * m], f, {a[m - 1]: 1})


# --- helpers ----------------------------------------------------------------------------------------------
def _to_int(bits, signed):
    """Columns of bits (list of arrays, LSB first) -> int64 values."""
    w = len(bits)
    v = np.zeros(len(bits[0]) if w else 0, np.int64)
    for j, col in enumerate(bits):
        v |= col.astype(np.int64) << j
    if signed and w:
        v = np.where(v >> (w - 1) & 1, v - (1 << w), v)
    return v


def _pow2(n):
    return 1 << max(1, (int(n) - 1).bit_length())


def _mode(signed):
    return {False: "unsigned", True: "signed", "mixed": "mixed"}[signed]


def range_of(bits, signed):
    if signed is True:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


# --- elementwise operations --------------------------------------------------------------------------------
def _elementwise(cfg, op, bits, signed, a, b):
    """Generator over chunks of ``rows`` elements for add, sub, mul and relu."""
    m = bits
    a = a.reshape(-1)
    b = b.reshape(-1) if b is not None else None
    out = []
    for start in range(0, a.size, cfg.rows):
        n = min(cfg.rows, a.size - start)
        bld = _Builder(cfg)
        p = bld.p
        A = list(range(m))
        if op in ("add", "sub"):
            _cols_check(cfg, 2 * m + 1, op)
            B = list(range(m, 2 * m))
            cr = 2 * m
            # sub computes a - b: the minuend a goes into the destination field (spec section 2).
            first, second = (a, b) if op == "add" else (b, a)
            bld.load_bits(A, first[start:start + n], m)
            bld.load_bits(B, second[start:start + n], m)
            (add_lut if op == "add" else sub_lut)(p, A, B, cr)
            # Unsigned: the carry/borrow column is bit M of the exact result. Signed: the result wraps
            # modulo 2^M (spec section 2), so the carry is not read.
            reads = B + [cr] if signed is False else B
            res = yield bld.chunk(col_reads=reads)
            vals = _to_int(list(res[0]), op == "sub" or signed is True)
        elif op == "mul":
            _cols_check(cfg, 4 * m + 1, op)
            B = list(range(m, 2 * m))
            R = list(range(2 * m, 4 * m))
            bld.load_bits(A, a[start:start + n], m)
            bld.load_bits(B, b[start:start + n], m)
            mul_lut(p, A, B, R, 4 * m, _mode(signed))
            res = yield bld.chunk(col_reads=R)
            vals = _to_int(list(res[0]), signed is not False)
        else:   # relu
            _cols_check(cfg, m + 1, op)
            f = m
            bld.load_bits(A, a[start:start + n], m)
            if signed is True:
                # Clear the flag (the array is not assumed clean), flag the negative rows while clearing
                # their sign bit, then clear the M-1 other bits of the flagged rows: 2M + 1 cycles.
                p.setcol(f, 0)
                p.pass_({A[m - 1]: 1}, {f: 1, A[m - 1]: 0})
                for j in range(m - 1):
                    p.pass_({f: 1, A[j]: 1}, {A[j]: 0})
            res = yield bld.chunk(col_reads=A)
            vals = _to_int(list(res[0]), signed is True)
        out.append(vals[:n])
    return np.concatenate(out) if out else np.zeros(0, np.int64)


# --- tree reductions (reduce, avgpool, maxpool, matmul) --------------------------------------------------
def _tree_level(bld, groups, size, q, X, Y, send, kind, w, signed_fixed, y_clean, flags=None):
    """One level of a grouped tree over rows ``g*size + k``: row k+2^(q-1) is folded into row k for every
    k that is a multiple of 2^q. The sender's value is copied into its Y field (gated by the SEND flag
    column), moved to the receiver's Y field by a vertical copy, then combined: X <- X (+|max) Y."""
    p = bld.p
    cfg = bld.cfg
    half = 1 << (q - 1)
    if not y_clean:
        for j in range(w):
            p.setcol(Y[j], 0)
    mask = np.zeros(cfg.rows, bool)
    pairs = []
    for g in range(groups):
        for k in range(0, size, 2 * half):
            if k + half < size:
                mask[g * size + k + half] = True
                pairs.append((g * size + k + half, g * size + k))
    p.ldcol(send, bld.col_entry(mask))
    for j in range(w):
        p.pass_({send: 1, X[j]: 1}, {Y[j]: 1})
    if cfg.segmentation:
        # Groups are aligned powers of two, so every segment of 2^q rows is one receiver/sender pair (or
        # rows beyond the groups, whose results are never read).
        p.svcmp(q - 1, Y[0], Y[w - 1])
        p.svwr(q - 1)
    else:
        for s, r in pairs:
            p.vcmp({s: 1}, Y[0], Y[w - 1])
            p.vwr({r: 1})
    if kind == "max":
        d, g_ = flags
        p.setcol(d, 0)
        p.setcol(g_, 0)
        max_lut(p, Y[:w], X[:w], d, g_, signed_fixed)
        return w
    if signed_fixed:
        p.setcol(X[w], 0)          # the carry column of the previous level holds garbage
        add_lut(p, Y[:w], X[:w], X[w])
        return w
    add_lut(p, Y[:w], X[:w], X[w])
    return w + 1


def _reduce_groups(cfg, values, bits, signed, kind, shift=0):
    """Generator: reduce each row of ``values`` (G, L) with sum or max; returns (G,) int64.

    Rows hold two elements each (element k in Y, element k + J/2 in X), so the first level is one
    word-parallel LUT pass sequence; later levels fold row pairs. ``shift`` drops low bits of the sum
    (average pooling with a power-of-two window reads the upper columns).
    """
    G, L = values.shape
    signed = signed is True
    pad = 0 if kind == "sum" else range_of(bits, signed)[0]
    J = _pow2(L)
    if J // 2 > cfg.rows:
        # Fold: reduce parts of 2*rows elements, then the partial results.
        part = 2 * cfg.rows
        n_parts = -(-L // part)
        padded = np.full((G, n_parts * part), pad, np.int64)
        padded[:, :L] = values
        partial = yield from _reduce_groups(cfg, padded.reshape(G * n_parts, part), bits, signed, kind)
        pbits = bits + (part.bit_length() - 1 if kind == "sum" else 0)
        return (yield from _reduce_groups(cfg, partial.reshape(G, n_parts), pbits, signed, kind, shift))
    half = J // 2
    per_chunk = cfg.rows // half
    wf = bits + (J.bit_length() - 1) if kind == "sum" else bits
    out = []
    for g0 in range(0, G, per_chunk):
        gn = min(per_chunk, G - g0)
        v = np.full((gn, J), pad, np.int64)
        v[:, :L] = values[g0:g0 + gn]
        bld = _Builder(cfg)
        p = bld.p
        X = list(range(0, wf + 1))
        Y = list(range(wf + 1, 2 * wf + 1))
        send, d, gf = 2 * wf + 1, 2 * wf + 2, 2 * wf + 3
        _cols_check(cfg, 2 * wf + 4, f"{kind} of {bits}-bit values over {J}")
        first, second = v[:, :half].reshape(-1), v[:, half:].reshape(-1)
        # Signed sums are sign-extended to the final width when loaded (wrapping arithmetic at that width
        # is then exact); unsigned sums grow one column per level, their carry column starting at zero.
        lw = wf if (signed and kind == "sum") else bits
        bld.load_bits(Y, first, lw)
        bld.load_bits(X, second, lw)
        if kind == "max":
            p.setcol(d, 0)
            p.setcol(gf, 0)
            max_lut(p, Y[:bits], X[:bits], d, gf, signed)
            w = bits
        else:
            add_lut(p, Y[:lw], X[:lw], X[lw])
            w = lw if signed else bits + 1
        for q in range(1, half.bit_length()):
            w = _tree_level(bld, gn, half, q, X, Y, send, kind, w, signed, y_clean=False, flags=(d, gf))
        if kind == "max" or shift:
            res = yield bld.chunk(col_reads=X[shift:shift + bits])
            vals = _to_int(list(res[0]), signed)[::half][:gn]
        else:
            res = yield bld.chunk(row_reads=[g * half for g in range(gn)])
            vals = _to_int(list(res[1][:, :wf].T), signed)
        out.append(vals)
    return np.concatenate(out)


def _matmul(cfg, bits, signed, a, b):
    """Generator: C = A @ B. Row g*J + k multiplies A[p, k] by B[k, s] for output g = (p, s); a grouped
    tree then sums each group of J rows; the receivers' columns are read (2M + log2 J columns)."""
    i, jn = a.shape
    u = b.shape[1]
    m = bits
    mode = _mode(signed)
    J = _pow2(jn)
    if J > cfg.rows:
        part = cfg.rows
        n_parts = -(-jn // part)
        partials = []
        for k in range(n_parts):
            sl = slice(k * part, min(jn, (k + 1) * part))
            partials.append((yield from _matmul(cfg, bits, signed, a[:, sl], b[sl, :])))
        stacked = np.stack(partials, axis=-1).reshape(i * u, n_parts)
        pbits = 2 * m + (part.bit_length() - 1)
        psigned = signed is not False
        return (yield from _reduce_groups(cfg, stacked, pbits, psigned, "sum")).reshape(i, u)
    wf = 2 * m + (J.bit_length() - 1)
    A = list(range(m))
    B = list(range(m, 2 * m))
    X = list(range(2 * m, 2 * m + wf + 1))
    Y = list(range(X[-1] + 1, X[-1] + 1 + wf))
    send, f = Y[-1] + 1, Y[-1] + 2
    _cols_check(cfg, f + 1, f"matmul of {m}-bit values over {jn} terms")
    per_chunk = cfg.rows // J
    outs = []
    pairs = [(pi, si) for pi in range(i) for si in range(u)]
    for g0 in range(0, len(pairs), per_chunk):
        grp = pairs[g0:g0 + per_chunk]
        av = np.zeros((len(grp), J), np.int64)
        bv = np.zeros((len(grp), J), np.int64)
        for g, (pi, si) in enumerate(grp):
            av[g, :jn] = a[pi]
            bv[g, :jn] = b[:, si]
        bld = _Builder(cfg)
        p = bld.p
        bld.load_bits(A, av.reshape(-1), m)
        bld.load_bits(B, bv.reshape(-1), m)
        mul_lut(p, A, B, X[:2 * m], f, mode)
        sgn = signed is not False
        if sgn:
            # Sign-extend the 2M-bit products to the final width: one compare, a write per 4 columns.
            ext = X[2 * m:wf]
            if ext:
                p.cmp({X[2 * m - 1]: 1})
                for k in range(0, len(ext), 4):
                    p.wr({c: 1 for c in ext[k:k + 4]})
            w = wf
        else:
            w = 2 * m
        for q in range(1, J.bit_length()):
            w = _tree_level(bld, len(grp), J, q, X, Y, send, "sum", w, sgn, y_clean=(q == 1))
        res = yield bld.chunk(col_reads=X[:wf])
        outs.append(_to_int(list(res[0]), sgn)[::J][:len(grp)])
    return np.concatenate(outs).reshape(i, u)


# --- the job-level interface ------------------------------------------------------------------------------
def check_inputs(op, bits, signed, inputs, window=None):
    """Validate one operation's inputs; returns the numpy arrays (int64). Raises ValueError naming the field."""
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, not {op!r}")
    if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an integer 1..16, not {bits!r}")
    if signed not in (True, False, "mixed"):
        raise ValueError(f"signed must be true, false or \"mixed\", not {signed!r}")
    if signed == "mixed" and op not in ("mul", "matmul"):
        raise ValueError(f"signed \"mixed\" (unsigned a x signed b) is only for mul and matmul, not {op}")
    if signed is not False and bits < 2 and op in ("mul", "matmul") :
        raise ValueError(f"signed {op} needs bits >= 2, not {bits}")
    names = ("a", "b") if op in ("add", "sub", "mul", "matmul") else ("a",)
    for k in inputs:
        if k not in names:
            raise ValueError(f"{op}: unknown input {k!r}; inputs: {', '.join(names)}")
    arrs = {}
    for k in names:
        if k not in inputs:
            raise ValueError(f"{op}: missing input {k!r}")
        x = np.asarray(inputs[k])
        if x.dtype.kind not in "iub":
            raise ValueError(f"{op}: input {k} must hold integers, not {x.dtype}")
        x = x.astype(np.int64)
        if x.size == 0:
            raise ValueError(f"{op}: input {k} is empty (shape {x.shape})")
        sgn = signed is True or (signed == "mixed" and k == "b")
        lo, hi = range_of(bits, sgn)
        if x.size and (x.min() < lo or x.max() > hi):
            bad = x[(x < lo) | (x > hi)].reshape(-1)[0]
            raise ValueError(f"{op}: input {k} holds {bad}, outside the {bits}-bit "
                             f"{'signed' if sgn else 'unsigned'} range {lo}..{hi}")
        arrs[k] = x
    if op in ("add", "sub", "mul") and arrs["a"].shape != arrs["b"].shape:
        raise ValueError(f"{op}: inputs a {arrs['a'].shape} and b {arrs['b'].shape} must have the same shape")
    if op == "matmul":
        a, b = arrs["a"], arrs["b"]
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul: a {a.shape} and b {b.shape} must be (i, j) and (j, u) matrices")
    if op in ("reduce", "maxpool", "avgpool") and arrs["a"].ndim == 0:
        raise ValueError(f"{op}: input a must have at least one axis")
    if op in ("maxpool", "avgpool"):
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            raise ValueError(f"{op}: window must be a positive integer, not {window!r}")
        n = arrs["a"].shape[-1]
        if n % window:
            raise ValueError(f"{op}: the last axis of a ({n}) must be a multiple of window={window}")
        if op == "avgpool" and window & (window - 1):
            raise ValueError(f"avgpool: window must be a power of two (1, 2, 4, 8...), not {window}")
    elif window is not None:
        raise ValueError(f"{op}: window is only for maxpool and avgpool")
    return arrs


def op_chunks(cfg: CAPConfig, op, bits, signed, arrs, window=None):
    """Generator of :class:`Chunk` for one checked operation; send each chunk's outputs
    ``(col_out, row_out)`` (bool arrays, entries x bits); returns the result array."""
    a = arrs["a"]
    if op in ("add", "sub", "mul", "relu"):
        res = yield from _elementwise(cfg, op, bits, signed, a, arrs.get("b"))
        return res.reshape(a.shape)
    if op == "matmul":
        return (yield from _matmul(cfg, bits, signed, a, arrs["b"]))
    if op == "reduce":
        g = a.reshape(-1, a.shape[-1])
        return (yield from _reduce_groups(cfg, g, bits, signed, "sum")).reshape(a.shape[:-1])
    g = a.reshape(-1, window)
    kind = "max" if op == "maxpool" else "sum"
    shift = window.bit_length() - 1 if op == "avgpool" else 0
    res = yield from _reduce_groups(cfg, g, bits, signed, kind, shift)
    return res.reshape(*a.shape[:-1], a.shape[-1] // window)


class OpRun:
    """Drives an :func:`op_chunks` generator for a synchronous or an asynchronous executor::

        run = OpRun(gen)
        while run.chunk is not None:
            run.feed(*execute(run.chunk))      # (col_out, row_out, counters); ``await`` it on the RTL

    Attributes
    ----------
    chunk : Chunk or None
        The next run to execute (None when the operation is complete).
    result : numpy.ndarray
        The operation's result once complete.
    counters : dict
        Summed ``cycles``, ``compares``, ``writes``, ``reads`` of the runs so far.
    runs : int
    """

    def __init__(self, gen):
        self.gen = gen
        self.counters = {"cycles": 0, "compares": 0, "writes": 0, "reads": 0}
        self.runs = 0
        self.result = None
        self.chunk = None
        self._advance(lambda: next(gen))

    def _advance(self, step):
        try:
            self.chunk = step()
        except StopIteration as e:
            self.chunk, self.result = None, e.value

    def feed(self, col_out, row_out, counters):
        for k in self.counters:
            self.counters[k] += counters[k]
        self.runs += 1
        self._advance(lambda: self.gen.send((col_out, row_out)))


def run_generator(gen, execute):
    """Run every chunk of ``gen`` with ``execute(chunk) -> (col_out, row_out, counters)``;
    returns ``(result, summed counters, number of runs)``."""
    run = OpRun(gen)
    while run.chunk is not None:
        run.feed(*execute(run.chunk))
    return run.result, run.counters, run.runs


def reference(op, bits, signed, arrs, window=None):
    """numpy result of an operation (the expected values; written from the job semantics, not the LUTs)."""
    a = arrs["a"]
    b = arrs.get("b")
    if op == "add":
        s = a + b
        return s if signed is False else _wrap(s, bits)
    if op == "sub":
        return a - b if signed is False else _wrap(a - b, bits)
    if op == "mul":
        return a * b
    if op == "relu":
        return np.maximum(a, 0)
    if op == "matmul":
        return a @ b
    if op == "reduce":
        return a.sum(axis=-1)
    g = a.reshape(*a.shape[:-1], a.shape[-1] // window, window)
    if op == "maxpool":
        return g.max(axis=-1)
    return np.floor_divide(g.sum(axis=-1), window)


def _wrap(x, bits):
    x = x & ((1 << bits) - 1)
    return np.where(x >> (bits - 1) & 1, x - (1 << bits), x)
