"""RBE: the Reconfigurable Binary Engine (BinConv / Block / Core), see docs/rbe.md."""
