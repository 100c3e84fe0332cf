"""2D CAP: a two-dimensional associative processor (BF-IMNA compute unit): config, micro-op ISA,
LUT programs, AP emulator (golden model), BF-IMNA runtime formulas, jobs and the network estimator."""
