"""Entry point: python -m stackctl <command>."""

import sys

from stackctl.cli import main

sys.exit(main())
