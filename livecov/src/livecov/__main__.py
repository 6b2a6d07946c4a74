import sys

from livecov.cli import main

sys.exit(main())
