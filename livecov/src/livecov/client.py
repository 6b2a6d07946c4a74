"""An HTTP client bound to the live server that names its test.

Every request it sends carries ``Livecov-Context: <name>``, so the server records the lines
it runs under that test: what API tests need, and what a browser's ``page`` gets from the
pytest plugin. :func:`client_for` gives httpx's ``Client`` when httpx is installed (its
whole API), else :class:`Client`: a small client over urllib, so that livecov needs no HTTP
library. Both take the same common calls (``get``, ``post``, ``put``, ``patch``,
``delete``, ``request`` with ``params``, ``json``, ``data`` (a form), ``headers``) and
answer alike
(``status_code``, ``text``, ``content``, ``json()``, ``headers``, ``raise_for_status()``);
neither raises for an error status or follows a redirect unless asked.
"""

from __future__ import annotations

import json as json_module
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from http.cookiejar import CookieJar
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

from livecov.protocol import CONTEXT_HEADER

if TYPE_CHECKING:
    import httpx


def client_for(base_url: str, context: str) -> HTTPClient:
    """A client for ``base_url`` whose requests name the test ``context``: httpx's when
    httpx is installed, else livecov's own (:class:`Client`). Close it when done."""
    try:
        import httpx
    except ImportError:
        return Client(base_url, context)
    return httpx.Client(base_url=base_url, headers={CONTEXT_HEADER: context})


class HTTPStatusError(Exception):
    """An error status, raised by :meth:`Response.raise_for_status`."""


@dataclass
class Response:
    status_code: int
    headers: Message
    content: bytes
    url: str

    @property
    def text(self) -> str:
        return self.content.decode(self.headers.get_content_charset() or "utf-8", "replace")

    def json(self) -> Any:
        return json_module.loads(self.content)

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def raise_for_status(self) -> Response:
        if not self.is_success:  # as httpx's: a redirect is no success either
            raise HTTPStatusError(f"{self.status_code} for {self.url}")
        return self


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Answer a redirect as it is (as httpx does by default), rather than follow it."""

    def redirect_request(self, *args: Any) -> None:
        return None


class Client:
    """A small HTTP client over urllib: relative URLs go to ``base_url``, every request
    names the test ``context``, cookies are kept between requests."""

    def __init__(
        self,
        base_url: str,
        context: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        if context is not None:
            self.headers[CONTEXT_HEADER] = context
        self.timeout = timeout
        self.cookies = CookieJar()
        self._opener = urllib.request.build_opener(
            _KeepRedirects, urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        full = url if "://" in url else self.base_url + url
        if params:
            full += ("&" if "?" in full else "?") + urllib.parse.urlencode(params, doseq=True)
        body, content_type = _body(json, data)
        sent = {**self.headers, **({"Content-Type": content_type} if content_type else {})}
        request = urllib.request.Request(
            full, data=body, method=method.upper(), headers={**sent, **(headers or {})}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, answer.headers, answer.read(), full)
        except urllib.error.HTTPError as answer:  # an error status is an answer too
            with answer:
                return Response(answer.code, answer.headers, answer.read(), full)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)

    def close(self) -> None:
        self._opener.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _body(json: Any, data: Mapping[str, str] | None) -> tuple[bytes | None, str | None]:
    """The request body and its content type: JSON, a form, or none."""
    if json is not None:
        text = json_module.dumps(json, ensure_ascii=False, separators=(",", ":"))  # as httpx
        return text.encode(), "application/json"
    if data is not None:
        return urllib.parse.urlencode(data).encode(), "application/x-www-form-urlencoded"
    return None, None


# What client_for gives (a string: httpx is only imported where it is installed).
HTTPClient: TypeAlias = "httpx.Client | Client"
