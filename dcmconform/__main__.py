"""``python -m dcmconform`` is the ``dcmconform`` command."""

import sys

from dcmconform.cli import main

sys.exit(main())
