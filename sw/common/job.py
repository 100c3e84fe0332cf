"""Engine-independent part of job folders: :class:`JobError` and the job-file reader :func:`read_job_json`.

Each engine's job format lives next to the engine (``sw.<engine>.job``); VTA's (``job.json`` + ``dram.bin``,
``result.json`` + ``dram.bin``) is :mod:`sw.vta.job`. Its names stay importable from here (``load_job``,
``write_job``, ``write_result``, ``read_result``, ``Job``...) for existing callers. See docs/jobs.md.
"""

from __future__ import annotations

from pathlib import Path

from sw.common.contract import BadInput, read_json

__all__ = ["JobError", "read_job_json", "JOB_FILE", "Job", "load_job", "write_job", "write_result",
           "read_result", "RESULT_FILE", "DRAM_FILE", "INSN_BYTES", "STATUSES"]

JOB_FILE = "job.json"

#: Names of VTA's job format, re-exported lazily from :mod:`sw.vta.job` (which imports this module).
_VTA_NAMES = ("Job", "load_job", "write_job", "write_result", "read_result", "RESULT_FILE", "DRAM_FILE",
              "INSN_BYTES", "STATUSES")


class JobError(BadInput):
    """A malformed job or result folder; the message names the file and the field (exit status 2)."""


def read_job_json(path, job_file=JOB_FILE):
    """``(folder, job_file_path, raw dict)`` of a job folder (or of its job file itself).

    Raises
    ------
    JobError
        If the job file is missing, empty, not UTF-8, not JSON or not a JSON object.
    """
    path = Path(path)
    if path.is_file() and path.name == job_file:
        path = path.parent
    jf = path / job_file
    if not jf.is_file():
        raise JobError(f"{jf}: job file not found")
    try:
        return path, jf, read_json(jf, "job file")
    except BadInput as e:
        raise JobError(str(e)) from None


def __getattr__(name):
    if name in _VTA_NAMES:
        from sw.vta import job
        return getattr(job, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
