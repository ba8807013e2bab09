"""``python -m helpers.serving``: see :mod:`helpers.serving.cli`."""

import sys

from helpers.serving.cli import main

sys.exit(main())
