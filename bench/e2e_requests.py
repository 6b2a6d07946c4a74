"""A small end-to-end session against a running flaskr, in plain HTTP (urllib).

The same requests a browser test would make, without a browser, so that two ways of
serving the app under coverage (livecov and pytest-flask + pytest-cov) can be compared
like for like: register (twice), log in (wrong, then right), create a post (invalid, then
valid), read the index, edit, delete, a missing page, a bad page number, log out. Forms
carry their CSRF token, as a browser's would.

    python bench/e2e_requests.py [URL]        # default: $LIVE_SERVER_URL

Exits non-zero if any answer is not the expected one. Loopback addresses only.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
UPDATE_LINK = re.compile(r'href="/(\d+)/update"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Session:
    def __init__(self, base: str) -> None:
        host = urllib.parse.urlparse(base).hostname or ""
        if not (host.startswith("127.") or host in ("localhost", "::1")):
            raise SystemExit(f"e2e_requests: loopback only, not {host!r}")
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.count = 0

    def request(
        self,
        method: str,
        path: str,
        data: dict[str, str] | None = None,
        expect: int = 200,
        contains: str | None = None,
    ) -> str:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method)
        try:
            with self.opener.open(req, timeout=30) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode(errors="replace")
        self.count += 1
        if status != expect:
            raise SystemExit(f"e2e_requests: {method} {path} answered {status}, not {expect}")
        if contains is not None and contains not in text:
            raise SystemExit(f"e2e_requests: {method} {path}: {contains!r} not in the page")
        return text

    def form(
        self, path: str, data: dict[str, str], expect: int = 302, contains: str | None = None
    ) -> str:
        page = self.request("GET", path)
        match = TOKEN.search(page)
        token = {"csrf_token": match.group(1) or match.group(2)} if match else {}
        return self.request("POST", path, {**token, **data}, expect, contains)


def run(base: str) -> int:
    """The session; returns the number of requests made."""
    s = Session(base)
    user = "e2e-" + secrets.token_hex(4)
    s.request("GET", "/hello", contains="Hello, World!")
    s.request("GET", "/", contains="Log In")
    s.form("/auth/register", {"username": user, "password": "pw-123456"})
    s.form("/auth/register", {"username": user, "password": "pw-123456"}, 200, "already registered")
    s.form("/auth/login", {"username": user, "password": "wrong"}, 200, "Incorrect password.")
    s.form(
        "/auth/login", {"username": "nobody-" + user, "password": "x"}, 200, "Incorrect username."
    )
    s.form("/auth/login", {"username": user, "password": "pw-123456"})
    s.form("/create", {"title": "", "body": "no title"}, 200, "Title is required.")
    s.form("/create", {"title": "Hello from e2e", "body": "line one\nline two"})
    index = s.request("GET", "/", contains="Hello from e2e")
    post_id = UPDATE_LINK.search(index)
    if post_id is None:
        raise SystemExit("e2e_requests: no edit link on the index")
    pid = post_id.group(1)
    s.form(f"/{pid}/update", {"title": "", "body": "x"}, 200, "Title is required.")
    s.form(f"/{pid}/update", {"title": "Edited", "body": "changed"})
    s.request("GET", "/", contains="Edited")
    page = s.request("GET", f"/{pid}/update")
    token = TOKEN.search(page)
    s.request(
        "POST",
        f"/{pid}/delete",
        {"csrf_token": (token.group(1) or token.group(2))} if token else {},
        302,
    )
    s.request("GET", f"/{pid}/update", expect=404)
    s.request("GET", "/no/such/page", expect=404)
    s.request("GET", "/?page=abc", expect=404)
    s.request("GET", "/auth/logout", expect=302)
    s.request("GET", "/create", expect=302)
    return s.count


def main() -> int:
    base = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("LIVE_SERVER_URL", "")
    if not base:
        print("usage: e2e_requests.py URL (or set LIVE_SERVER_URL)", file=sys.stderr)
        return 2
    count = run(base)
    print(f"e2e_requests: {count} requests OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
