"""The RBE's register map (32-bit registers on a byte-addressed configuration port) and job encodings.

Shared by the hardware (``hw.rbe.regfile``), the runtime and the testbench.
"""

from __future__ import annotations

from .config import RBEConfig
from .layer import RBELayer
from .layout import Placement

__all__ = ["REGS", "WRITABLE", "COUNTERS", "LAYER_FIELDS", "encode_layer", "decode_layer", "job_registers",
           "STATUS_BUSY", "STATUS_DONE", "STATUS_ERROR", "ERRORS", "DEBUG_BITS", "CTRL_STATES", "describe_wait"]

#: Byte offsets of the registers.
REGS = {
    "control": 0x00,        # write bit0 = start; read STATUS_* bits
    "layer": 0x04,          # LAYER_FIELDS
    "k_in_tiles": 0x08,
    "k_out_tiles": 0x0C,
    "height": 0x10,
    "width": 0x14,
    "x_base": 0x18,         # byte addresses: x and y aligned to a chunk, w and norm to a bus beat
    "w_base": 0x1C,
    "norm_base": 0x20,
    "y_base": 0x24,
    "error_code": 0x28,     # ERRORS, set when a job is refused at start
    "debug": 0x2C,          # DEBUG_BITS: what the array waits on (read when a job hangs)
    # counters, cleared at start (read-only)
    "cycles": 0x40,         # start to end-of-job event
    "compute_cycles": 0x44,  # cycles issuing a weight word to the array
    "offset_cycles": 0x48,  # cycles computing the signed-weight offset
    "weight_stall": 0x4C,   # pass running, no weight word available
    "patch_stall": 0x50,    # next pass waits for its input patch
    "bin_ops_lo": 0x54,     # one-bit AND-MACs done on in-precision operands of valid pixels
    "bin_ops_hi": 0x58,
    "bin_ops_peak": 0x5C,   # most such operations in one cycle
    "store_writes": 0x60,   # output chunk writes
    "passes": 0x64,         # input patches computed
    "out_stall": 0x68,      # a final pass waits for the output buffers
}
WRITABLE = ("layer", "k_in_tiles", "k_out_tiles", "height", "width", "x_base", "w_base", "norm_base", "y_base")
COUNTERS = ("cycles", "compute_cycles", "offset_cycles", "weight_stall", "patch_stall", "bin_ops_lo",
            "bin_ops_hi", "bin_ops_peak", "store_writes", "passes", "out_stall")
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
