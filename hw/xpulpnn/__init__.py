"""RTL of the ``xpulpnn`` engine: an RV32IM core with the XpulpV2 subset and XpulpNN (docs/xpulpnn.md)."""
