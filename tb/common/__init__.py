"""Engine-independent testbench fixtures (MemCopy) proving the simulation infrastructure."""
