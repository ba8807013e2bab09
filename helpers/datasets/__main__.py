"""``python -m helpers.datasets prefetch [NAME ...]`` or ``python -m helpers.datasets status``."""

import sys

from helpers.datasets.registry import main

sys.exit(main())
