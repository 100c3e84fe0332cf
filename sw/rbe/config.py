"""RBE configuration: the one object shared by the hardware, the runtime, the golden models and the testbench.

Every derived quantity (output tile, patch size, chunk and slot widths, peak operations) is a property here;
nothing else in the project recomputes one.
"""

from __future__ import annotations

import dataclasses

from sw.common.config import EngineConfig

__all__ = ["RBEConfig", "N_TAPS"]

#: Filter taps of the 3x3 mode; the 3x3 mapping puts one tap on each Block, so a Core has 9 Blocks.
N_TAPS = 9

# (default, allowed values)
_KEYS = {
    # Cores = output pixels of a square output tile (1x1, 2x2 or 3x3 pixels).
    "N_CORES": (9, (1, 4, 9)),
    "N_BLOCKS": (9, (9,)),
    # BinConvs per Block = bit-planes of one activation tile (the spec's 4-bit activation tiles).
    "N_BINCONVS": (4, (4,)),
    # Bits of one BinConv = input channels per k_in tile = output channels per k_out tile.
    "BINCONV_WIDTH": (32, (8, 16, 32)),
    "ACC_WIDTH": (32, range(16, 33)),
    # Width of the memory port (the reference's is 288 bits; accelgen buses are powers of two).
    "PORT_WIDTH": (512, (256, 512, 1024)),
    # Output channels whose normalisation parameters fit on chip (a larger layer is split by the runtime).
    "MAX_K_OUT": (512, (32, 64, 128, 256, 512, 1024, 2048)),
    # Beats of weight prefetch buffer in front of the weight gearbox.
    "WEIGHT_FIFO_BEATS": (32, (8, 16, 32, 64)),
    # Read bursts outstanding at once on the memory port.
    "MAX_READS_IN_FLIGHT": (16, (2, 4, 8, 16, 32)),
}


@dataclasses.dataclass(frozen=True)
class RBEConfig(EngineConfig):
    """A validated RBE configuration (all keys are plain JSON integers).

    Parameters
    ----------
    N_CORES : int
        Cores of the engine, 1, 4 or 9: the output tile is sqrt(N_CORES) pixels square.
    N_BLOCKS : int
        Blocks per Core; 9 (one per tap of a 3x3 filter, one per weight bit in 1x1 mode).
    N_BINCONVS : int
        BinConvs per Block; 4 (one per bit of a 4-bit activation tile).
    BINCONV_WIDTH : int
        One-bit products per BinConv, 8, 16 or 32; also the channel tile (K_in and K_out multiples of it).
    ACC_WIDTH : int
        Bits of each signed accumulator, 16..32.
    PORT_WIDTH : int
        Data width of the memory port in bits: 256, 512 or 1024.
    MAX_K_OUT : int
        Output channels of one job (on-chip kappa/lambda storage).
    WEIGHT_FIFO_BEATS : int
        Depth in bus beats of the weight prefetch FIFO.
    MAX_READS_IN_FLIGHT : int
        Outstanding read bursts on the memory port.

    Raises
    ------
    ValueError
        If a key is unknown or out of range; the message names the key and the allowed values.
    """

    ENGINE = "RBE"

    N_CORES: int = 9
    N_BLOCKS: int = 9
    N_BINCONVS: int = 4
    BINCONV_WIDTH: int = 32
    ACC_WIDTH: int = 32
    PORT_WIDTH: int = 512
    MAX_K_OUT: int = 512
    WEIGHT_FIFO_BEATS: int = 32
    MAX_READS_IN_FLIGHT: int = 16

    def __post_init__(self):
        self.check_int_choices(_KEYS)

    @property
    def name(self) -> str:
        return f"c{self.N_CORES}b{self.N_BLOCKS}x{self.N_BINCONVS}w{self.BINCONV_WIDTH}_acc{self.ACC_WIDTH}_p{self.PORT_WIDTH}"

    # --- derived quantities ------------------------------------------------------------------------
    @property
    def tile(self) -> int:
        """Side of the square output tile computed by the Cores (3 by default)."""
        return {1: 1, 4: 2, 9: 3}[self.N_CORES]

    def patch(self, mode: str) -> int:
        """Side of the stationary input patch: tile + 2 in 3x3 mode, tile in 1x1 mode."""
        return self.tile + 2 if mode == "3x3" else self.tile

    @property
    def patch_max(self) -> int:
        return self.tile + 2

    @property
    def k_tile(self) -> int:
        """Channels per k_in / k_out tile (= BINCONV_WIDTH)."""
        return self.BINCONV_WIDTH

    @property
    def chunk_bits(self) -> int:
        """One pixel of one channel tile and one 4-bit activation tile: N_BINCONVS bit-plane words."""
        return self.N_BINCONVS * self.BINCONV_WIDTH

    @property
    def chunk_bytes(self) -> int:
        return self.chunk_bits // 8

    @property
    def port_bytes(self) -> int:
        return self.PORT_WIDTH // 8

    @property
    def chunks_per_beat(self) -> int:
        return self.PORT_WIDTH // self.chunk_bits

    @property
    def slots_per_beat(self) -> int:
        """BINCONV_WIDTH-bit words per bus beat (the weight gearbox's unit)."""
        return self.PORT_WIDTH // self.BINCONV_WIDTH

    @property
    def word_slots(self) -> int:
        """BINCONV_WIDTH-bit words in one broadcast weight word (one per Block)."""
        return self.N_BLOCKS

    @property
    def weight_word_bits(self) -> int:
        """Bits of the weight word broadcast each cycle (288 by default)."""
        return self.N_BLOCKS * self.BINCONV_WIDTH

    @property
    def norm_bytes(self) -> int:
        """Bytes per output channel of normalisation parameters (lambda int32, kappa uint16, 2 pad bytes)."""
        return 8

    @property
    def bin_ops_per_cycle(self) -> int:
        """One-bit AND-MACs per cycle at full occupancy (10,368 by default)."""
        return self.N_CORES * self.N_BLOCKS * self.N_BINCONVS * self.BINCONV_WIDTH

    def ideal_mac_per_cycle(self, mode: str, qa: int, qw: int) -> float:
        """Array ideal: 3x3: cores*9*k/(QW*ceil(QA/4)) (2592/(QW*ceil(QA/4)) by default); 1x1: cores*k/ceil(QA/4)."""
        n_qa = -(-qa // self.N_BINCONVS)
        if mode == "3x3":
            return self.N_CORES * N_TAPS * self.BINCONV_WIDTH / (qw * n_qa)
        return self.N_CORES * self.BINCONV_WIDTH / n_qa
