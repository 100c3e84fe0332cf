"""``python -m sim.cli ...`` is ``accelgen ...``."""

import sys

from sim.cli import main

sys.exit(main())
