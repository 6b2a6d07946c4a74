"""What runs inside the server process: load the app, wrap it, serve it, report readiness.

The server side imports nothing of the test side: of the rest of livecov only what both
sides share, :mod:`livecov.protocol` (header names, control paths) and :mod:`livecov.errors`
(the one-line errors and their exit statuses), two modules that import nothing of livecov
(``tests/livecov/test_imports.py`` checks it). Its bottom is :mod:`livecov.server.handshake`
(the spec the server starts with, the line it answers with), which the test side builds and
reads; the test-process side (:mod:`livecov.live_server`) starts this package in a fresh
interpreter with coverage already measuring.
"""
