"""Write the CAP example job (job.json + .npy inputs) with fixed seeds:

    python examples/cap/make.py

Three operations on the default 64 x 128 CAP: a signed 8-bit elementwise add, an unsigned x signed 4-bit
matmul (4x16 by 16x3) and a 4-bit max pool (window 4). The files are committed; this script documents them.
"""

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sw.cap.config import CAPConfig  # noqa: E402
from sw.cap.job import write_cap_job  # noqa: E402


def main():
    rng = np.random.default_rng(2024)
    ops = [{"op": "add", "bits": 8, "signed": True,
            "inputs": {"a": rng.integers(-128, 128, 48, dtype=np.int16), "b": rng.integers(-128, 128, 48, dtype=np.int16)}},
           {"op": "matmul", "bits": 4, "signed": "mixed",
            "inputs": {"a": rng.integers(0, 16, (4, 16), dtype=np.int8), "b": rng.integers(-8, 8, (16, 3), dtype=np.int8)}},
           {"op": "maxpool", "bits": 4, "signed": False, "window": 4,
            "inputs": {"a": rng.integers(0, 16, (2, 16), dtype=np.int8)}}]
    write_cap_job(HERE, CAPConfig(), ops)
    print(f"wrote {HERE / 'job.json'} and {len(list(HERE.glob('op*_*.npy')))} .npy inputs")


if __name__ == "__main__":
    main()
