"""The VTA golden model: fsim semantics (spec section 3) plus the accelgen extensions.

Written from the specification only (docs/vta-isa-extensions.md lists the extension semantics). The model is
untimed but keeps the architectural concurrency: instructions are fetched in order into three bounded
queues (load, compute, store); each module executes its queue head when its dependency tokens are
available and the token queues it pushes into have room. A program that cannot progress before FINISH
ends with status ``"timeout"`` and a message naming what each module waits on.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from .config import VTAConfig, MemId, Opcode, AluOp
from .isa import decode_insn, InsnError, MemInsn, GemmInsn, AluInsn, FinishInsn, uop_fields, mulshr_params
from .job import insn_words

__all__ = ["GoldenResult", "run", "run_job", "Scratchpads", "QUEUE_NAMES"]

INT32_MIN = -(1 << 31)
_MASK32 = 0xFFFFFFFF
# Token queues: (producer, consumer). Index names used in messages.
QUEUE_NAMES = {"l2c": "load->compute", "c2l": "compute->load", "c2s": "compute->store", "s2c": "store->compute"}
# For each module: flag -> token queue it pops from / pushes into.
_POPS = {"load": {"pop_next": "c2l"}, "compute": {"pop_prev": "l2c", "pop_next": "s2c"},
         "store": {"pop_prev": "c2s"}}
_PUSHES = {"load": {"push_next": "l2c"}, "compute": {"push_prev": "c2l", "push_next": "c2s"},
           "store": {"push_prev": "s2c"}}
_SRAM_NAME = {MemId.UOP: "uop", MemId.INP: "inp", MemId.WGT: "wgt", MemId.ACC: "acc", MemId.ACC_8BIT: "acc"}


@dataclasses.dataclass
class GoldenResult:
    """Outcome of a golden-model run.

    Attributes
    ----------
    status : str
        ``"ok"`` (FINISH executed), ``"timeout"`` (no progress possible, or no FINISH) or ``"error"``.
    message : str
        Human-readable reason; names the instruction index for errors.
    dram : numpy.ndarray
        The final DRAM image (a modified copy of the input).
    counters : dict
        ``insn_executed``, ``gemm_uops``, ``alu_uops``, ``load_bytes``, ``store_bytes``.
    executed : int
        Number of instructions executed.
    """

    status: str
    message: str
    dram: np.ndarray
    counters: dict
    executed: int


class _RunError(Exception):
    pass


class Scratchpads:
    """The four scratchpads of one VTA instance as numpy arrays.

    Attributes
    ----------
    uop : numpy.ndarray
        ``uint32[uop_depth]`` micro-op words.
    inp : numpy.ndarray
        ``int8[inp_depth, BATCH, BLOCK_IN]``.
    wgt : numpy.ndarray
        ``int8[wgt_depth, BLOCK_OUT, BLOCK_IN]``.
    acc : numpy.ndarray
        ``int32[acc_depth, BATCH, BLOCK_OUT]``.
    """

    def __init__(self, cfg: VTAConfig):
        self.uop = np.zeros(cfg.uop_depth, dtype=np.uint32)
        self.inp = np.zeros((cfg.inp_depth, cfg.batch, cfg.block_in), dtype=np.int8)
        self.wgt = np.zeros((cfg.wgt_depth, cfg.block_out, cfg.block_in), dtype=np.int8)
        self.acc = np.zeros((cfg.acc_depth, cfg.batch, cfg.block_out), dtype=np.int32)

    def of(self, mem_id: int) -> np.ndarray:
        return getattr(self, _SRAM_NAME[mem_id])


def _wrap32(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x, dtype=np.int64) & _MASK32).astype(np.uint32).view(np.int32)


def _mul_shr(d, s, shift, rnd):
    """accelgen MULSHR (ALU MUL with the wide bit): ``(d * s + (2**(shift-1) if rnd)) >> shift`` on the exact
    64-bit product; computed as ``((p >> (shift-1)) + 1) >> 1`` when rounding so nothing overflows int64."""
    p = np.asarray(d, np.int64) * np.asarray(s, np.int64)      # |p| <= 2**62: exact
    if rnd and shift:
        return ((p >> (shift - 1)) + 1) >> 1
    return p >> shift


def _alu(op: int, d: np.ndarray, s: np.ndarray, wide=None) -> np.ndarray:
    """One ALU op per 32-bit lane; ``d`` and ``s`` are int64 arrays of int32 values; returns int32.
    ``wide=(shift, rnd)`` selects the MULSHR form of MUL, ``wide=(offset,)`` the RSHR form of SHR
    (docs/vta-isa-extensions.md)."""
    if op == AluOp.MIN:
        r = np.minimum(d, s)
    elif op == AluOp.MAX:
        r = np.maximum(d, s)
    elif op == AluOp.ADD:
        r = d + s
    elif op == AluOp.SHR and wide is not None:     # RSHR: rounding right shift, plus the immediate
        n = np.clip(s, 0, 31)
        r = np.where(n == 0, d, ((d >> np.maximum(n - 1, 0)) + 1) >> 1) + wide[0]
    elif op == AluOp.SHR:
        right = d >> np.clip(s, 0, 31)
        left_amt = np.clip(-s, 0, 32)
        left = np.where(left_amt >= 32, 0, d << np.minimum(left_amt, 31))
        r = np.where(s >= 0, right, left)
    elif op == AluOp.MUL and wide is not None:
        r = _mul_shr(d, s, *wide)
    elif op == AluOp.MUL:
        r = d * s
    elif op == AluOp.CLP:
        m = np.abs(s)
        r = np.clip(d, -m, m)
    elif op == AluOp.MOV:
        r = np.broadcast_to(s, d.shape)
    else:  # pragma: no cover - decode_insn rejects other opcodes
        raise _RunError(f"ALU opcode {op}")
    return _wrap32(r)


class _Machine:
    def __init__(self, cfg: VTAConfig, dram: np.ndarray, trace):
        self.cfg = cfg
        self.dram = dram
        self.sp = Scratchpads(cfg)
        self.trace = trace
        self.counters = {"insn_executed": 0, "gemm_uops": 0, "alu_uops": 0, "load_bytes": 0, "store_bytes": 0}
        uf = {f.name: f for f in uop_fields(cfg)}
        self._uop_fields = [(uf[n].offset, (1 << uf[n].width) - 1) for n in ("dst", "src", "wgt")]

    # --- helpers -------------------------------------------------------------------------------------
    def _dram_rows(self, idx, eb, base, y_size, x_size, x_stride, what):
        """Byte matrix [y_size, x_size*eb] of DRAM rows; raises if any byte lies outside the image."""
        first = base * eb
        last = (base + (y_size - 1) * x_stride + x_size) * eb
        if last > self.dram.size:
            raise _RunError(f"instruction {idx}: {what} touches DRAM bytes [{first}, {last}) outside the image "
                            f"[0, {self.dram.size})")
        starts = (base + np.arange(y_size, dtype=np.int64) * x_stride) * eb
        return starts[:, None] + np.arange(x_size * eb, dtype=np.int64)[None, :]

    def _record(self, idx, mem_id, sram_idx):
        arr = self.sp.of(mem_id)
        name = _SRAM_NAME[mem_id]
        for s in np.atleast_1d(sram_idx):
            self.trace.append((idx, name, int(s), arr[int(s)].tobytes()))

    # --- instructions --------------------------------------------------------------------------------
    def load(self, idx: int, insn: MemInsn):
        cfg, mt = self.cfg, insn.memory_type
        if insn.x_size == 0:
            return
        eb = cfg.elem_bytes(mt)
        arr = self.sp.of(mt)
        if mt == MemId.UOP:  # UOP loads never pad (docs/vta-isa-extensions.md)
            yp0 = yp1 = xp0 = xp1 = 0
        else:
            yp0, yp1, xp0, xp1 = insn.y_pad_0, insn.y_pad_1, insn.x_pad_0, insn.x_pad_1
        width = xp0 + insn.x_size + xp1
        rows = yp0 + insn.y_size + yp1
        n = rows * width
        depth = arr.shape[0]
        if insn.sram_base + n > depth:
            raise _RunError(f"instruction {idx}: LOAD {MemId.NAMES[mt]} writes sram index "
                            f"{insn.sram_base + n - 1} (sram_base={insn.sram_base} + {n} elements) beyond depth {depth}")
        lane_shape = arr.shape[1:]
        if mt == MemId.UOP or not insn.pad_min:
            pad = 0
        else:
            pad = INT32_MIN if mt == MemId.ACC else -128
        block = np.full((rows, width) + lane_shape, pad, dtype=arr.dtype)
        if insn.y_size:
            bidx = self._dram_rows(idx, eb, insn.dram_base, insn.y_size, insn.x_size, insn.x_stride,
                                   f"LOAD {MemId.NAMES[mt]}")
            raw = self.dram[bidx]
            self.counters["load_bytes"] += raw.size
            if mt == MemId.UOP:
                data = raw.reshape(-1).view("<u4").reshape(insn.y_size, insn.x_size)
            elif mt == MemId.ACC:
                data = raw.reshape(-1).view("<i4").reshape((insn.y_size, insn.x_size) + lane_shape)
            else:  # INP, WGT, ACC_8BIT: int8 lanes (ACC_8BIT sign-extends into the int32 lanes)
                data = raw.view(np.int8).reshape((insn.y_size, insn.x_size) + lane_shape)
            block[yp0:yp0 + insn.y_size, xp0:xp0 + insn.x_size] = data
        arr[insn.sram_base:insn.sram_base + n] = block.reshape((n,) + lane_shape)
        if self.trace is not None:
            self._record(idx, mt, np.arange(insn.sram_base, insn.sram_base + n))

    def store(self, idx: int, insn: MemInsn):
        if insn.memory_type != MemId.OUT:
            raise _RunError(f"instruction {idx}: STORE memory_type must be OUT {MemId.OUT}, not {insn.memory_type}")
        for k in ("y_pad_0", "y_pad_1", "x_pad_0", "x_pad_1"):
            if getattr(insn, k):
                raise _RunError(f"instruction {idx}: STORE {k} must be 0, not {getattr(insn, k)}")
        if insn.x_size == 0 or insn.y_size == 0:
            return
        n = insn.y_size * insn.x_size
        acc = self.sp.acc
        if insn.sram_base + n > acc.shape[0]:
            raise _RunError(f"instruction {idx}: STORE reads acc index {insn.sram_base + n - 1} beyond depth "
                            f"{acc.shape[0]}")
        eb = self.cfg.elem_bytes(MemId.OUT)
        bidx = self._dram_rows(idx, eb, insn.dram_base, insn.y_size, insn.x_size, insn.x_stride, "STORE OUT")
        out = acc[insn.sram_base:insn.sram_base + n]
        if insn.rq_en:  # accelgen extension: arithmetic shift right, then saturate to [0 or -128, 127]
            out = np.clip(out >> insn.rq_shift, 0 if insn.rq_relu else -128, 127)
        out = out.astype(np.int8)  # truncation to the low 8 bits
        self.dram[bidx] = out.view(np.uint8).reshape(insn.y_size, insn.x_size * eb)
        self.counters["store_bytes"] += n * eb

    def _indices(self, idx: int, insn, names, depths):
        """Flattened (iteration order) index arrays for dst/src/wgt of a GEMM/ALU loop nest."""
        cfg = self.cfg
        if insn.uop_end > cfg.uop_depth:
            raise _RunError(f"instruction {idx}: uop_end {insn.uop_end} beyond uop depth {cfg.uop_depth}")
        if insn.uop_bgn >= insn.uop_end or insn.iter_out == 0 or insn.iter_in == 0:
            return None
        words = self.sp.uop[insn.uop_bgn:insn.uop_end].astype(np.int64)
        y = np.arange(insn.iter_out, dtype=np.int64)[:, None, None]
        x = np.arange(insn.iter_in, dtype=np.int64)[None, :, None]
        out = []
        for (off, mask), name, depth, (fo, fi) in zip(self._uop_fields, names, depths, self._factors(insn)):
            if name is None:
                out.append(None)
                continue
            base = (words >> off) & mask
            a = (base[None, None, :] + y * fo + x * fi).reshape(-1)
            top = int(a.max())
            if top >= depth:
                k = int(np.argmax(a >= depth))
                raise _RunError(f"instruction {idx}: {name} index {top} beyond depth {depth} "
                                f"(first at loop iteration {k})")
            out.append(a)
        return out

    @staticmethod
    def _factors(insn):
        return [(insn.dst_factor_out, insn.dst_factor_in), (insn.src_factor_out, insn.src_factor_in),
                (getattr(insn, "wgt_factor_out", 0), getattr(insn, "wgt_factor_in", 0))]

    def gemm(self, idx: int, insn: GemmInsn):
        cfg, sp = self.cfg, self.sp
        if insn.reset:
            ix = self._indices(idx, insn, ("acc", None, None), (cfg.acc_depth, 0, 0))
        else:
            ix = self._indices(idx, insn, ("acc", "inp", "wgt"), (cfg.acc_depth, cfg.inp_depth, cfg.wgt_depth))
        if ix is None:
            return
        a, i, w = ix
        self.counters["gemm_uops"] += a.size
        if self.trace is not None:
            return self._gemm_traced(idx, insn, a, i, w)
        if insn.reset:
            sp.acc[a] = 0
            return
        # Sums are order-independent modulo 2^32, so the whole loop nest is one vectorised update.
        # |partial sums| <= 128*128*BLOCK_IN < 2^53: float64 products are exact.
        touched, slot = np.unique(a, return_inverse=True)
        acc = sp.acc[touched].astype(np.int64)
        chunk = max(1, (1 << 22) // (cfg.block_out * cfg.block_in))
        for s in range(0, a.size, chunk):
            inp = sp.inp[i[s:s + chunk]].astype(np.float64)               # (n, B, BI)
            wgt = sp.wgt[w[s:s + chunk]].astype(np.float64)               # (n, BO, BI)
            prod = np.matmul(inp, wgt.transpose(0, 2, 1)).astype(np.int64)  # (n, B, BO)
            np.add.at(acc, slot[s:s + chunk], prod)
        sp.acc[touched] = _wrap32(acc)

    def _gemm_traced(self, idx, insn, a, i, w):
        sp = self.sp
        for k in range(a.size):
            if insn.reset:
                sp.acc[a[k]] = 0
            else:
                prod = sp.inp[i[k]].astype(np.int64) @ sp.wgt[w[k]].astype(np.int64).T
                sp.acc[a[k]] = _wrap32(sp.acc[a[k]].astype(np.int64) + prod)
            self._record(idx, MemId.ACC, a[k])

    def alu(self, idx: int, insn: AluInsn):
        cfg, acc = self.cfg, self.sp.acc
        names = ("acc dst", None if insn.use_imm else "acc src", None)
        ix = self._indices(idx, insn, names, (cfg.acc_depth, cfg.acc_depth, 0))
        if ix is None:
            return
        dst, src, _ = ix
        n = dst.size
        self.counters["alu_uops"] += n
        # accelgen: the (otherwise unused) reset bit of an ALU MUL selects MULSHR, shift/round from the immediate
        wide = mulshr_params(insn.imm) if insn.reset and insn.alu_opcode == AluOp.MUL else None
        if insn.reset and insn.alu_opcode == AluOp.SHR:   # accelgen RSHR: the immediate is the offset
            wide = (np.int64(insn.imm),)
        if self.trace is not None:
            bounds = range(n + 1)
        elif insn.use_imm and np.unique(dst).size == n:
            bounds = [0, n]
        else:
            bounds = self._alu_chunks(dst, src)
        bounds = list(bounds)
        for s, e in zip(bounds[:-1], bounds[1:]):
            d = acc[dst[s:e]].astype(np.int64)
            if insn.use_imm:
                v = np.int64(insn.imm)
            else:
                v = acc[src[s:e]].astype(np.int64)
            acc[dst[s:e]] = _alu(insn.alu_opcode, d, v, wide)
            if self.trace is not None:
                self._record(idx, MemId.ACC, dst[s:e])

    @staticmethod
    def _alu_chunks(dst, src):
        """Split the iteration sequence so no iteration reads or rewrites an index written earlier in its chunk."""
        bounds, written = [0], set()
        dl = dst.tolist()
        sl = src.tolist() if src is not None else None
        for k, d in enumerate(dl):
            if d in written or (sl is not None and sl[k] in written):
                bounds.append(k)
                written = set()
            written.add(d)
        bounds.append(len(dl))
        return bounds


def _module_of(insn) -> str:
    if isinstance(insn, MemInsn):
        if insn.opcode == Opcode.STORE:
            return "store"
        if insn.memory_type in (MemId.INP, MemId.WGT):
            return "load"
    return "compute"


def run(cfg: VTAConfig, dram: np.ndarray, insn_addr: int, insn_count: int, *, trace: list | None = None) -> GoldenResult:
    """Run a program on the golden model.

    Parameters
    ----------
    cfg : VTAConfig
        The configuration (queue depths included).
    dram : numpy.ndarray
        ``uint8`` DRAM image; not modified (the result holds a copy).
    insn_addr, insn_count : int
        Byte address and number of 128-bit instructions.
    trace : list, optional
        If given, ``(instruction index, memory name, sram index, element bytes)`` is appended for every
        scratchpad write, in execution order.

    Returns
    -------
    GoldenResult
    """
    dram = np.array(dram, dtype=np.uint8, copy=True).reshape(-1)
    m = _Machine(cfg, dram, trace)
    words = insn_words(dram, insn_addr, insn_count)
    n = len(words)
    queues = {"load": collections.deque(), "compute": collections.deque(), "store": collections.deque()}
    tokens = {q: 0 for q in QUEUE_NAMES}
    pc = 0
    executed = 0

    def result(status, message):
        m.counters["insn_executed"] = executed
        return GoldenResult(status, message, dram, dict(m.counters), executed)

    def blocked_on(mod, insn):
        for flag, q in _POPS[mod].items():
            if getattr(insn, flag) and tokens[q] == 0:
                return f"{flag} (queue {QUEUE_NAMES[q]} is empty)"
        for flag, q in _PUSHES[mod].items():
            if getattr(insn, flag) and tokens[q] >= cfg.TOKEN_QUEUE_DEPTH:
                return f"{flag} (queue {QUEUE_NAMES[q]} is full)"
        return None

    while True:
        progress = False
        fetch_blocked = None
        while pc < n:
            try:
                insn = decode_insn(cfg, words[pc], pc)
            except InsnError as e:
                return result("error", str(e))
            mod = _module_of(insn)
            if len(queues[mod]) >= cfg.INSN_QUEUE_DEPTH:
                fetch_blocked = f"fetch is blocked: {mod} queue full at instruction {pc}"
                break
            queues[mod].append((pc, insn))
            pc += 1
            progress = True
        for mod in ("load", "compute", "store"):
            q = queues[mod]
            while q:
                idx, insn = q[0]
                if blocked_on(mod, insn) is not None:
                    break
                for flag, tq in _POPS[mod].items():
                    if getattr(insn, flag):
                        tokens[tq] -= 1
                try:
                    if isinstance(insn, FinishInsn):
                        executed += 1
                        return result("ok", f"FINISH at instruction {idx}")
                    if isinstance(insn, GemmInsn):
                        m.gemm(idx, insn)
                    elif isinstance(insn, AluInsn):
                        m.alu(idx, insn)
                    elif insn.opcode == Opcode.STORE:
                        m.store(idx, insn)
                    else:
                        m.load(idx, insn)
                except _RunError as e:
                    return result("error", str(e))
                for flag, tq in _PUSHES[mod].items():
                    if getattr(insn, flag):
                        tokens[tq] += 1
                q.popleft()
                executed += 1
                progress = True
        if not progress:
            break
    if pc >= n and not any(queues.values()):
        return result("timeout", f"all {n} instructions executed without FINISH")
    parts = []
    for mod in ("load", "compute", "store"):
        if queues[mod]:
            idx, insn = queues[mod][0]
            parts.append(f"{mod} waits on {blocked_on(mod, insn)} at instruction {idx}")
    if fetch_blocked:
        parts.append(fetch_blocked)
    return result("timeout", "deadlock: " + "; ".join(parts))


def run_job(job) -> GoldenResult:
    """Run a loaded :class:`sw.vta.job.VTAJob` on the golden model."""
    from .job import config_of
    return run(config_of(job), job.dram, job.insn_addr, job.insn_count)
