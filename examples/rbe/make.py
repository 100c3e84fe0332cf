"""Write this folder's RBE job: the acceptance layer of docs/rbe.md on the default configuration.

3x3 mode, 64 -> 64 channels, 11x11 input, QA = QW = QAO = 4, ReLU; the tensors of the benchmark's latency
cases (``tb.rbe.cases.make_case`` with seed 5). Run from the repository root::

    .venv/bin/python examples/rbe/make.py
    accelgen sim rbe --job examples/rbe [--backend golden] [--latency 64]
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from sw.rbe.config import RBEConfig  # noqa: E402
from sw.rbe.job import write_job  # noqa: E402
from tb.rbe.cases import make_case  # noqa: E402

LAYER = dict(mode="3x3", qa=4, qw=4, qao=4, k_in=64, k_out=64, height=11, width=11, relu=True)
SEED = 5


def main():
    c = make_case("example", **LAYER, seed=SEED)
    write_job(HERE, RBEConfig(), c.layer, c.x, c.w, c.kappa, c.lam)
    print(f"wrote {HERE}: {c.layer}")


if __name__ == "__main__":
    main()
