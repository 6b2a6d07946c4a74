"""A WSGI app for the exactness test (test_sysmon_contexts.py): code that runs in threads,
generators, a streamed body, an exception path, and lines every route shares. What a
request runs depends on its path only (and /resume on how often it was asked before)."""

import threading


def shared(count):
    total = 0
    for number in range(count):
        total += number
    return total


def squares(count):
    for number in range(count):
        yield number * number


def in_thread():
    results = []
    worker = threading.Thread(target=lambda: results.append(shared(4)))
    worker.start()
    worker.join()
    return results[0]


def caught():
    try:
        raise ValueError("caught")
    except ValueError as error:
        return str(error)


def boom():
    raise RuntimeError("boom")


def stream():
    for square in squares(3):
        yield f"{square} ".encode()


# One generator for the whole process, resumed by each /resume: its body runs under the
# context of whichever request resumes it.
COUNTER = squares(1_000_000)

ROUTES = {
    "/thread": in_thread,
    "/generator": lambda: sum(squares(5)),
    "/caught": caught,
    "/boom": boom,
    "/resume": lambda: next(COUNTER),
}


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    shared(2)
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return stream()
    body = str(ROUTES[path]())
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
