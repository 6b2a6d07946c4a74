"""``python -m livecov.jinja [DATA_FILE]``: repair a combined data file's template arcs."""

import sys

from livecov.jinja.repair import main

sys.exit(main())
