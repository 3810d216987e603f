"""``python -m benchmarks [files] [--quick] [--readme README.md]``, from the project root."""

import sys

from benchmarks._runner import main

sys.exit(main())
