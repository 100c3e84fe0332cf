"""RBE (Reconfigurable Binary Engine) software: config, bit-plane layouts, registers, golden models, jobs."""
