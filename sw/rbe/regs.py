"""The RBE's register map (32-bit registers on a byte-addressed configuration port) and job encodings.

Shared by the hardware (``hw.rbe.engine`` builds its register block from :data:`REGS`), the runtime, the
testbench and the docs (the table in docs/rbe.md is :meth:`REGS.markdown() <sw.common.regs.RegisterMap.markdown>`).
"""

from __future__ import annotations

from ..common.regs import Reg, RegisterMap
from .config import RBEConfig
from .layer import RBELayer
from .layout import Placement

__all__ = ["REGS", "COUNTERS", "LAYER_FIELDS", "encode_layer", "decode_layer", "job_registers",
           "STATUS_BUSY", "STATUS_DONE", "STATUS_ERROR", "ERRORS", "DEBUG_BITS", "CTRL_STATES", "describe_wait"]

#: The host registers (32-bit words at byte offsets): the one table behind the hardware register block
#: (:class:`hw.common.regfile.RegisterFile`), the testbench accessors, the manifest and docs/rbe.md.
REGS = RegisterMap("rbe", [
    Reg("control", 0x00, "ctrl", doc="write 1: start a job; read: bit 0 busy, bit 1 done, bit 2 error"),
    Reg("layer", 0x04, "rw", doc="mode [0] (1 = 1x1), relu [1], qa [7:4], qw [11:8], qao [15:12], shift [21:16]"),
    Reg("k_in_tiles", 0x08, "rw", doc="input channels / BINCONV_WIDTH"),
    Reg("k_out_tiles", 0x0C, "rw", doc="output channels / BINCONV_WIDTH"),
    Reg("height", 0x10, "rw", doc="input image rows"),
    Reg("width", 0x14, "rw", doc="input image columns"),
    Reg("x_base", 0x18, "rw", doc="byte address of x (chunk aligned)"),
    Reg("w_base", 0x1C, "rw", doc="byte address of the weights (bus-beat aligned)"),
    Reg("norm_base", 0x20, "rw", doc="byte address of kappa/lambda (bus-beat aligned)"),
    Reg("y_base", 0x24, "rw", doc="byte address of y (chunk aligned)"),
    Reg("error_code", 0x28, "status", 4, doc="why a job was refused at start (ERRORS); cleared by a start"),
    Reg("debug", 0x2C, "status", doc="what the array waits on (DEBUG_BITS; read when a job hangs)"),
    Reg("cycles", 0x40, "counter", inc_width=0, doc="cycles from start to the end-of-job event"),
    Reg("compute_cycles", 0x44, "counter", doc="cycles issuing a weight word to the array"),
    Reg("offset_cycles", 0x48, "counter", doc="cycles computing the signed-weight offset"),
    Reg("weight_stall", 0x4C, "counter", doc="pass running, no weight word available"),
    Reg("patch_stall", 0x50, "counter", doc="the next pass waits for its input patch"),
    Reg("bin_ops", 0x54, "counter", 64, inc_width=24,
        doc="one-bit AND-MACs on in-precision operands of valid pixels"),
    Reg("bin_ops_peak", 0x5C, "peak", inc_width=24, doc="most such operations in one cycle"),
    Reg("store_writes", 0x60, "counter", doc="output chunk writes"),
    Reg("passes", 0x64, "counter", doc="input patches computed"),
    Reg("out_stall", 0x68, "counter", doc="a final pass waits for the output buffers"),
])
#: Counter names, as in every result's ``counters`` (hardware registers in table order).
COUNTERS = tuple(REGS.counters())
#: Bits of the ``control`` word when read (:data:`sw.common.regs.CTRL_BITS`).
STATUS_BUSY, STATUS_DONE, STATUS_ERROR = 1, 2, 4

#: Fields of the ``layer`` register: name -> (lsb, width).
LAYER_FIELDS = {"mode": (0, 1), "relu": (1, 1), "qa": (4, 4), "qw": (8, 4), "qao": (12, 4), "shift": (16, 6)}

#: Fields of the ``debug`` register: name -> (lsb, width).
DEBUG_BITS = {"patch_ready": (0, 1), "params_loaded": (1, 1), "weight_valid": (2, 1), "store_idle": (3, 1),
              "tiles_in_flight": (4, 2), "state": (8, 3)}
#: Controller states in ``debug.state``.
CTRL_STATES = ("IDLE", "PASS", "CHANNELS", "DRAIN", "END")

#: error_code values.
ERRORS = {1: "a precision (qa, qw, qao) is outside 2..8", 2: "k_in_tiles or k_out_tiles is 0",
          3: "k_out_tiles exceeds MAX_K_OUT", 4: "height or width is smaller than the filter",
          5: "x_base/y_base not aligned to a chunk or w_base/norm_base not aligned to a bus beat"}


def encode_layer(layer: RBELayer) -> int:
    values = {"mode": int(layer.mode == "1x1"), "relu": int(layer.relu), "qa": layer.qa, "qw": layer.qw,
              "qao": layer.qao, "shift": layer.shift}
    word = 0
    for name, (lsb, width) in LAYER_FIELDS.items():
        word |= (values[name] & ((1 << width) - 1)) << lsb
    return word


def decode_layer(word: int) -> dict:
    return {name: (word >> lsb) & ((1 << width) - 1) for name, (lsb, width) in LAYER_FIELDS.items()}


def job_registers(cfg: RBEConfig, layer: RBELayer, placement: Placement) -> dict:
    """Register values (name -> int) that run ``layer`` placed at ``placement``."""
    return {"layer": encode_layer(layer), "k_in_tiles": layer.k_in // cfg.k_tile,
            "k_out_tiles": layer.k_out // cfg.k_tile, "height": layer.height, "width": layer.width,
            "x_base": placement.x_base, "w_base": placement.w_base, "norm_base": placement.norm_base,
            "y_base": placement.y_base}


def describe_wait(debug: int) -> str:
    """A sentence saying what a stopped job waits on, from the ``debug`` register."""
    f = {name: (debug >> lsb) & ((1 << width) - 1) for name, (lsb, width) in DEBUG_BITS.items()}
    state = CTRL_STATES[f["state"]] if f["state"] < len(CTRL_STATES) else f"state {f['state']}"
    parts = [f"controller in {state}"]
    if state == "PASS":
        if not f["params_loaded"]:
            parts.append("waits for kappa/lambda (NormParams still loading)")
        elif not f["patch_ready"]:
            parts.append("waits for the next input patch (PatchLoader)")
        else:
            parts.append(f"waits for a free output buffer ({f['tiles_in_flight']} tiles in flight, "
                         f"store {'idle' if f['store_idle'] else 'busy'})")
    elif state == "CHANNELS":
        parts.append("waits for a weight word (WeightStreamer)" if not f["weight_valid"] else
                     "computing (a weight word is available: not stalled)")
    elif state == "DRAIN":
        parts.append(f"waits for the Store to write {f['tiles_in_flight']} tile(s)")
    return ", ".join(parts)
