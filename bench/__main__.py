"""Entry point: python -m bench [--quick] (what ./manage_all.sh bench runs)."""

import sys

from bench.cli import main

sys.exit(main())
