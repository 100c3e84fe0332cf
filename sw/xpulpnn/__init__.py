"""Software side of the ``xpulpnn`` engine: config, ISA encoders, instruction-set simulator (golden model),
ELF loader, toolchain driver and random instruction streams."""
