"""What runs inside the server process: load the app, wrap it, serve it, report readiness.

Nothing here is imported by the test process except through :mod:`livecov.protocol`; the
test-process side (:mod:`livecov.live_server`) starts this package in a fresh interpreter
with coverage already measuring.
"""
