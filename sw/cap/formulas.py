"""BF-IMNA runtime formulas (spec section 3): the reference cycle counts of the 1D and 2D APs.

M is the precision in bits, L the number of words reduced, an i x j by j x u matrix product, pooling
windows of S elements and K pooling operations. ``segmented=True`` replaces the serial (L/2 - 1) terms by
log2(L/2) (all row pairs reduced in parallel).
"""

from math import log2

__all__ = ["add", "multiply", "relu", "reduce", "matmul", "maxpool", "avgpool", "formula", "FORMULA_OPS"]


def add(M):
    return 2 * M + 8 * M + M + 1


def multiply(M):
    return 2 * M + 8 * M * M + 2 * M


def relu(M):
    return 4 * M + 1


def _serial(n, segmented):
    return log2(n) if segmented else n - 1


def reduce(M, L, *, dim=2, segmented=False):
    if dim == 1:
        return 2 * M + sum(8 * (M + q - 1) for q in range(1, int(log2(L)) + 1)) + L - 1
    return 2 * M + 8 * M + 8 * _serial(L / 2, segmented) + 1


def matmul(M, i, j, u, *, dim=2, segmented=False):
    if dim == 1:
        return (2 * M + 8 * M * M + sum(8 * (2 * M + q - 1) for q in range(1, int(log2(j)) + 1))
                + 2 * (i * u) * (j - 1) + 2 * M + log2(j))
    serial = log2(j) if segmented else (i * u) * (j - 1)
    return 2 * M + 8 * M * M + 8 * serial + 2 * M + log2(j)


def maxpool(M, S, K, *, dim=2, segmented=False):
    if dim == 1:
        return 2 * M + (8 * M + 2) * log2(S) + 2 * K * (S / 2 - 1) + M
    return 2 * M + (8 * M + 2) + 10 * (log2(S / 2) if segmented else K * (S / 2 - 1)) + M


def avgpool(M, S, K, *, dim=2, segmented=False):
    if dim == 1:
        return 2 * M + 2 * K * (S / 2 - 1) + sum(8 * (M + q - 1) for q in range(1, int(log2(S)) + 1)) + M
    return 2 * M + 8 * M + 8 * (log2(S / 2) if segmented else K * (S / 2 - 1)) + M


FORMULA_OPS = ("add", "mul", "relu", "reduce", "matmul", "maxpool", "avgpool")


def formula(op, M, *, L=None, i=None, j=None, u=None, S=None, K=None, dim=2, segmented=False):
    """The 2D (or 1D) formula of an operation as a number, or None when the spec has none (sub)."""
    if op == "add":
        return add(M)
    if op == "mul":
        return multiply(M)
    if op == "relu":
        return relu(M)
    if op == "reduce":
        return reduce(M, L, dim=dim, segmented=segmented)
    if op == "matmul":
        return matmul(M, i, j, u, dim=dim, segmented=segmented)
    if op == "maxpool":
        return maxpool(M, S, K, dim=dim, segmented=segmented)
    if op == "avgpool":
        return avgpool(M, S, K, dim=dim, segmented=segmented)
    return None
