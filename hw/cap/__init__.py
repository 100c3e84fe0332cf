"""2D CAP: a two-dimensional associative processor (BF-IMNA compute unit) in Amaranth."""
