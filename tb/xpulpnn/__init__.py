"""cocotb testbenches and host-side harness of the ``xpulpnn`` core."""
