"""A WSGI app that answers what it was asked, for the HTTP client's tests: the method, the
path, the query, the body, and the headers that matter, as JSON."""

import json


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/redirect":
        start_response("302 Found", [("Location", "/elsewhere")])
        return [b""]
    if path == "/cookie":
        start_response("200 OK", [("Set-Cookie", "session=abc; Path=/")])
        return [b"set"]
    if path.startswith("/status/"):  # /status/299: an empty answer with that status
        start_response(path.removeprefix("/status/") + " Status", [])
        return [b""]
    if path == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=latin-1")])
        return ["n\xe9ant".encode("latin-1")]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = {
        "method": environ["REQUEST_METHOD"],
        "path": path,
        "query": environ.get("QUERY_STRING", ""),
        "body": environ["wsgi.input"].read(length).decode(),
        "content_type": environ.get("CONTENT_TYPE", ""),
        "context": environ.get("HTTP_LIVECOV_CONTEXT"),
        "cookie": environ.get("HTTP_COOKIE"),
        "extra": environ.get("HTTP_X_EXTRA"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]
