"""Build VTA instruction streams the way VTA's C++ runtime does (``VTADepPush``/``VTADepPop``/``VTASynchronize``).

A :class:`Program` owns a DRAM image with a bump allocator, packs numpy tensors into VTA's element layout,
emits LOAD/STORE/GEMM/ALU instructions and writes a job folder (docs/jobs.md)::

    p = Program(cfg)
    x = p.alloc(MemId.ACC, data)                       # data: (n, BATCH, BLOCK_OUT) int32
    y = p.alloc(MemId.OUT, n)
    p.load(MemId.ACC, 0, x, 0, 1, n, n)
    p.alu(Kernel([Uop(dst=0, src=0)], iter_out=n, dst_factor_out=1), AluOp.SHR, imm=0)
    p.dep_push("compute", "store"); p.dep_pop("compute", "store")
    p.store(0, y, 0, 1, n, n)
    p.dep_push("store", "compute"); p.dep_pop("store", "compute")
    p.finish()
    result = p.run_golden(); out = p.read(result.dram, y)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .job import write_job as _write_job, INSN_BYTES
from .config import VTAConfig, MemId, Opcode
from .isa import MemInsn, GemmInsn, AluInsn, FinishInsn, Uop

__all__ = ["Program", "Buffer", "Kernel", "STAGES"]

# Pipeline stages in VTA's runtime order: a dependency "from < to" uses the *_next flags at the producer.
STAGES = {"load": 1, "compute": 2, "store": 3}
_ALIGN = 64


def _stage(stage) -> int:
    if stage in STAGES.values():
        return stage
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}, not {stage!r}")
    return STAGES[stage]


def _insn_stage(insn) -> int:
    if isinstance(insn, MemInsn):
        if insn.opcode == Opcode.STORE:
            return STAGES["store"]
        if insn.memory_type in (MemId.INP, MemId.WGT):
            return STAGES["load"]
    return STAGES["compute"]


@dataclass(frozen=True)
class Buffer:
    """A DRAM buffer of the program.

    Attributes
    ----------
    addr : int
        Byte address (aligned to 64 bytes and to the element size).
    nbytes : int
        Size in bytes.
    mem_id : int
        The :class:`MemId` whose element layout the buffer holds.
    elem_bytes : int
        Bytes per element.
    """

    addr: int
    nbytes: int
    mem_id: int
    elem_bytes: int

    @property
    def n_elems(self) -> int:
        return self.nbytes // self.elem_bytes

    def elem(self, offset: int = 0) -> int:
        """The element index (``dram_base`` value) of element ``offset`` of this buffer."""
        return self.addr // self.elem_bytes + offset


@dataclass(frozen=True)
class Kernel:
    """A micro-op kernel with up to two loop levels (VTA's ``VTAUopLoopBegin``/``VTAUopPush``).

    Parameters
    ----------
    uops : sequence of Uop
        The kernel body.
    iter_out, iter_in : int
        Loop trip counts.
    dst_factor_out, dst_factor_in, src_factor_out, src_factor_in, wgt_factor_out, wgt_factor_in : int
        Index increments per outer / inner iteration (wgt factors are GEMM only).
    """

    uops: tuple
    iter_out: int = 1
    iter_in: int = 1
    dst_factor_out: int = 0
    dst_factor_in: int = 0
    src_factor_out: int = 0
    src_factor_in: int = 0
    wgt_factor_out: int = 0
    wgt_factor_in: int = 0

    def __post_init__(self):
        object.__setattr__(self, "uops", tuple(self.uops))
        if not self.uops:
            raise ValueError("a kernel needs at least one Uop")
        for u in self.uops:
            if not isinstance(u, Uop):
                raise TypeError(f"kernel uops must be Uop instances, not {u!r}")

    def loop_fields(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("uops")
        return d


class Program:
    """An instruction stream plus its DRAM image, bound to one :class:`VTAConfig`.

    Parameters
    ----------
    cfg : VTAConfig
        The configuration; element sizes, depths and field widths come from it.

    Attributes
    ----------
    insns : list
        The instructions emitted so far (``MemInsn``/``GemmInsn``/``AluInsn``/``FinishInsn``).
    """

    def __init__(self, cfg: VTAConfig):
        if not isinstance(cfg, VTAConfig):
            raise TypeError(f"cfg must be a VTAConfig, not {cfg!r}")
        self.cfg = cfg
        self.insns: list = []
        self._image = bytearray()
        self._pending = {s: [False, False] for s in STAGES.values()}  # stage -> [pop_prev, pop_next]
        self._uop_dram: dict = {}   # uops tuple -> Buffer
        self._uop_sram: dict = {}   # uops tuple -> uop_bgn currently loaded
        self._uop_top = 0
        self._finished = False

    # --- DRAM ----------------------------------------------------------------------------------------
    def _lane_shape(self, mem_id):
        c = self.cfg
        return {MemId.INP: (c.batch, c.block_in), MemId.WGT: (c.block_out, c.block_in),
                MemId.ACC: (c.batch, c.block_out), MemId.OUT: (c.batch, c.block_out),
                MemId.ACC_8BIT: (c.batch, c.block_out), MemId.UOP: ()}[mem_id]

    def pack(self, mem_id: int, data) -> bytes:
        """Pack an array into element layout: lanes row-major, little-endian, lane 0 at the lowest address.

        ``data`` has shape ``(n, BATCH, BLOCK_IN)`` for INP, ``(n, BLOCK_OUT, BLOCK_IN)`` for WGT,
        ``(n, BATCH, BLOCK_OUT)`` for ACC (int32), OUT and ACC_8BIT (int8); a sequence of :class:`Uop` for UOP.

        Raises
        ------
        ValueError
            If the shape does not match or a value does not fit the lane type.
        """
        if mem_id == MemId.UOP:
            return np.array([u.encode(self.cfg) for u in data], dtype="<u4").tobytes()
        shape = self._lane_shape(mem_id)
        a = np.asarray(data)
        if a.ndim != 1 + len(shape) or a.shape[1:] != shape:
            raise ValueError(f"{MemId.NAMES[mem_id]} data must have shape (n, {', '.join(map(str, shape))}), "
                             f"not {a.shape}")
        dtype = np.dtype("<i4") if mem_id == MemId.ACC else np.dtype(np.int8)
        info = np.iinfo(dtype)
        if a.size and (a.min() < info.min or a.max() > info.max):
            raise ValueError(f"{MemId.NAMES[mem_id]} values must be in {info.min}..{info.max}")
        return a.astype(dtype).tobytes()

    def alloc(self, mem_id: int, data) -> Buffer:
        """Allocate a DRAM buffer of ``mem_id`` elements.

        Parameters
        ----------
        mem_id : int
            Element layout (``MemId``).
        data : int or array_like
            A number of elements (zero-filled), or the contents (see :meth:`pack`).
        """
        eb = self.cfg.elem_bytes(mem_id)
        payload = bytes(int(data) * eb) if isinstance(data, (int, np.integer)) else self.pack(mem_id, data)
        return self._place(mem_id, payload, eb)

    def _place(self, mem_id, payload: bytes, eb: int) -> Buffer:
        align = max(_ALIGN, eb)
        addr = -(-len(self._image) // align) * align
        self._image.extend(bytes(addr - len(self._image)))
        self._image.extend(payload)
        return Buffer(addr, len(payload), mem_id, eb)

    def write(self, buf: Buffer, data, elem_offset: int = 0):
        """Overwrite elements of ``buf`` in the DRAM image starting at ``elem_offset``."""
        payload = self.pack(buf.mem_id, data)
        start = buf.addr + elem_offset * buf.elem_bytes
        if elem_offset < 0 or start + len(payload) > buf.addr + buf.nbytes:
            raise ValueError(f"write of {len(payload)} bytes at element {elem_offset} overflows the buffer")
        self._image[start:start + len(payload)] = payload

    def read(self, dram, buf: Buffer) -> np.ndarray:
        """Unpack ``buf`` from a DRAM image (e.g. a result's) into an array of its element shape."""
        raw = np.asarray(dram, dtype=np.uint8)[buf.addr:buf.addr + buf.nbytes].tobytes()
        if buf.mem_id == MemId.UOP:
            return np.frombuffer(raw, dtype="<u4").copy()
        dtype = np.dtype("<i4") if buf.mem_id == MemId.ACC else np.dtype(np.int8)
        return np.frombuffer(raw, dtype=dtype).reshape((-1,) + self._lane_shape(buf.mem_id)).astype(
            np.int32 if dtype.itemsize == 4 else np.int8)

    # --- instructions --------------------------------------------------------------------------------
    def _emit(self, insn):
        if self._finished:
            raise ValueError("the program is finished; no instruction may follow FINISH")
        stage = _insn_stage(insn)
        pp, pn = self._pending[stage]
        if pp or pn:
            insn = dataclasses.replace(insn, pop_prev=insn.pop_prev or pp, pop_next=insn.pop_next or pn)
            self._pending[stage] = [False, False]
        self.insns.append(insn)
        return insn

    def _noop(self, stage: int, **flags):
        if stage == STAGES["store"]:
            insn = MemInsn(opcode=Opcode.STORE, memory_type=MemId.OUT, **flags)
        else:
            insn = MemInsn(opcode=Opcode.LOAD,
                           memory_type=MemId.INP if stage == STAGES["load"] else MemId.UOP, **flags)
        return self._emit(insn)

    def load(self, mem_id: int, sram_base: int, buf: Buffer, elem_offset: int, y_size: int, x_size: int,
             x_stride: int, y_pad=(0, 0), x_pad=(0, 0), pad_min: bool = False):
        """Emit a 2D LOAD of ``mem_id`` from ``buf`` (element ``elem_offset``) to scratchpad ``sram_base``.

        INP/WGT loads run in the load module; UOP/ACC/ACC_8BIT loads in the compute module.
        """
        if mem_id not in (MemId.UOP, MemId.INP, MemId.WGT, MemId.ACC, MemId.ACC_8BIT):
            raise ValueError(f"LOAD memory id must be UOP, INP, WGT, ACC or ACC_8BIT, not {mem_id!r}")
        if buf.elem_bytes != self.cfg.elem_bytes(mem_id):
            raise ValueError(f"buffer holds {MemId.NAMES[buf.mem_id]} elements, not {MemId.NAMES[mem_id]}")
        return self._emit(MemInsn(opcode=Opcode.LOAD, memory_type=mem_id, sram_base=sram_base,
                                  dram_base=buf.elem(elem_offset), pad_min=bool(pad_min),
                                  y_size=y_size, x_size=x_size, x_stride=x_stride,
                                  y_pad_0=y_pad[0], y_pad_1=y_pad[1], x_pad_0=x_pad[0], x_pad_1=x_pad[1]))

    def store(self, sram_base: int, buf: Buffer, elem_offset: int, y_size: int, x_size: int, x_stride: int,
              requant=None):
        """Emit a 2D STORE of acc elements (truncated to int8) into ``buf`` (an OUT buffer).

        ``requant=(shift, relu)`` uses the accelgen store-path extension: each lane becomes
        ``clip(acc >> shift, 0 if relu else -128, 127)`` before truncation (docs/vta-isa-extensions.md).
        """
        if buf.elem_bytes != self.cfg.elem_bytes(MemId.OUT):
            raise ValueError(f"STORE needs an OUT buffer, not {MemId.NAMES[buf.mem_id]}")
        rq = {}
        if requant is not None:
            shift, relu = requant
            rq = {"rq_en": True, "rq_shift": shift, "rq_relu": bool(relu)}
        return self._emit(MemInsn(opcode=Opcode.STORE, memory_type=MemId.OUT, sram_base=sram_base,
                                  dram_base=buf.elem(elem_offset), y_size=y_size, x_size=x_size, x_stride=x_stride,
                                  **rq))

    def _kernel(self, kernel: Kernel):
        """Make ``kernel``'s uops resident in the uop scratchpad; return (uop_bgn, uop_end)."""
        if not isinstance(kernel, Kernel):
            raise TypeError(f"expected a Kernel, not {kernel!r}")
        key, n = kernel.uops, len(kernel.uops)
        if key in self._uop_sram:
            bgn = self._uop_sram[key]
            return bgn, bgn + n
        if n > self.cfg.uop_depth:
            raise ValueError(f"kernel of {n} uops exceeds the uop scratchpad depth {self.cfg.uop_depth}")
        if self._uop_top + n > self.cfg.uop_depth:
            self._uop_sram.clear()  # reuse the scratchpad from the start (loads and uses are in-order in compute)
            self._uop_top = 0
        if key not in self._uop_dram:
            self._uop_dram[key] = self._place(MemId.UOP, self.pack(MemId.UOP, key), self.cfg.elem_bytes(MemId.UOP))
        bgn = self._uop_top
        self.load(MemId.UOP, bgn, self._uop_dram[key], 0, 1, n, n)
        self._uop_sram[key] = bgn
        self._uop_top += n
        return bgn, bgn + n

    def preload(self, kernels):
        """Make all ``kernels`` resident with one LOAD UOP (a compiler loads a layer's kernels once, up front).

        Raises
        ------
        ValueError
            If their distinct micro-ops do not fit the uop scratchpad together.
        """
        keys = list(dict.fromkeys(k.uops for k in kernels))
        n = sum(len(k) for k in keys)
        if n > self.cfg.uop_depth:
            raise ValueError(f"{len(keys)} kernels with {n} micro-ops exceed the uop scratchpad depth "
                             f"{self.cfg.uop_depth}")
        self._uop_sram.clear()
        flat, pos = [], 0
        for key in keys:
            self._uop_sram[key] = pos
            flat.extend(key)
            pos += len(key)
        self._uop_top = pos
        if flat:
            buf = self._place(MemId.UOP, self.pack(MemId.UOP, flat), self.cfg.elem_bytes(MemId.UOP))
            self.load(MemId.UOP, 0, buf, 0, 1, len(flat), len(flat))

    def gemm(self, kernel: Kernel, reset: bool = False):
        """Emit (LOAD UOP if needed and) a GEMM running ``kernel``; ``reset`` zeroes the destinations."""
        bgn, end = self._kernel(kernel)
        return self._emit(GemmInsn(reset=bool(reset), uop_bgn=bgn, uop_end=end, **kernel.loop_fields()))

    def gemm_reset(self, kernel: Kernel):
        """Emit a GEMM with reset = 1: every destination of ``kernel`` becomes 0."""
        return self.gemm(kernel, reset=True)

    def alu(self, kernel: Kernel, op: int, imm: int | None = None):
        """Emit an ALU op over ``kernel``: ``dst = op(dst, imm)`` if ``imm`` is given, else ``op(dst, src)``."""
        if kernel.wgt_factor_out or kernel.wgt_factor_in:
            raise ValueError("ALU kernels have no wgt factors")
        fields = kernel.loop_fields()
        fields.pop("wgt_factor_out")
        fields.pop("wgt_factor_in")
        bgn, end = self._kernel(kernel)
        return self._emit(AluInsn(uop_bgn=bgn, uop_end=end, alu_opcode=op, use_imm=imm is not None,
                                  imm=0 if imm is None else imm, **fields))

    def dep_push(self, from_stage, to_stage):
        """``VTADepPush``: the last instruction gets the push flag if it belongs to ``from_stage``
        (and does not already push that way); otherwise a no-op of ``from_stage`` carries it."""
        f, t = _stage(from_stage), _stage(to_stage)
        if abs(f - t) != 1:
            raise ValueError(f"no dependency queue from {from_stage!r} to {to_stage!r}")
        self._commit_pending(f)
        flag = "push_next" if f < t else "push_prev"
        if self.insns and _insn_stage(self.insns[-1]) == f and not getattr(self.insns[-1], flag):
            self.insns[-1] = dataclasses.replace(self.insns[-1], **{flag: True})
        else:
            self._noop(f, **{flag: True})

    def dep_pop(self, from_stage, to_stage):
        """``VTADepPop``: the next instruction of ``to_stage`` waits for a token from ``from_stage``."""
        f, t = _stage(from_stage), _stage(to_stage)
        if abs(f - t) != 1:
            raise ValueError(f"no dependency queue from {from_stage!r} to {to_stage!r}")
        slot = 0 if f < t else 1
        if self._pending[t][slot]:
            self._commit_pending(t)
        self._pending[t][slot] = True

    def _commit_pending(self, stage: int):
        pp, pn = self._pending[stage]
        if pp or pn:
            self._pending[stage] = [False, False]
            self._noop(stage, pop_prev=pp, pop_next=pn)

    def finish(self):
        """``VTASynchronize``: wait for the last store and load, then FINISH (which itself pops nothing)."""
        self.dep_push("store", "compute")
        self.dep_push("load", "compute")
        self.dep_pop("store", "compute")
        self.dep_pop("load", "compute")
        self._commit_pending(STAGES["compute"])
        self.insns.append(FinishInsn())
        self._finished = True

    # --- output --------------------------------------------------------------------------------------
    def build(self):
        """Return ``(dram, insn_addr, insn_count)``: the uint8 DRAM image with the instructions appended."""
        image = bytearray(self._image)
        addr = -(-len(image) // _ALIGN) * _ALIGN
        image.extend(bytes(addr - len(image)))
        for insn in self.insns:
            image.extend(insn.to_bytes(self.cfg))
        assert addr % INSN_BYTES == 0
        return np.frombuffer(bytes(image), dtype=np.uint8).copy(), addr, len(self.insns)

    def write_job(self, path, cycle_limit: int | None = None):
        """Write the program as a job folder (docs/jobs.md) and return its path."""
        dram, addr, count = self.build()
        return _write_job(path, "vta", self.cfg.to_dict(), dram, addr, count, cycle_limit=cycle_limit)

    def run_golden(self, trace: list | None = None):
        """Run the program on the golden model; returns a :class:`sw.vta.golden.GoldenResult`."""
        from .golden import run
        dram, addr, count = self.build()
        return run(self.cfg, dram, addr, count, trace=trace)
