"""`python -m rnnkit ...` is the `rnnkit` command (torchrun starts it this way)."""

import sys

from rnnkit.cli.main import main

sys.exit(main())
