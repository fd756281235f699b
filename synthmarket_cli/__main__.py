"""``python -m synthmarket_cli``: the same entry point as the ``synthmarket`` console script."""

import sys

from synthmarket_cli.main import main

sys.exit(main())
