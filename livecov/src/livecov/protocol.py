"""What the test process and the server process agree on: header names and control paths.

Both sides import this module, so it must stay free of imports of its own.
"""

CONTEXT_HEADER = "Livecov-Context"
TOKEN_HEADER = "Livecov-Token"  # noqa: S105 - a header name, not a secret
DEFAULT_CONTEXT = "live-server"
CONTROL_PREFIX = "/__livecov__/"
MAX_CONTEXT_LENGTH = 500
# Beside its data file, each server process writes down every context it served, one a line
# (a request that runs no measured line leaves no trace in coverage.py's data).
SERVED_CONTEXTS_PREFIX = "livecov-served."
