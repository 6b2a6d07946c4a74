"""The "ways users run it" matrix (issue 20, Deliver item 10).

Three projects written as users write them (``projects/``), each in a venv of its own with
livecov installed from this checkout's ``livecov/`` folder as docs/install.md installs it, run
as their users run them. Each cell measures once and asserts the exact tests named on a
view line, a template line and an import-time line, the total and what ``livecov
contexts`` says. Cells that fail today for a known bug are ``xfail(strict=True)`` with the
issue item in the reason: when the fix lands they XPASS, which fails, and the fixer
removes the marker (docs/testing.md, "The matrix's known failures").

Every example of livecov's use in the README and docs/ (getting-started, pytest, run,
django, asgi pages), and its cell:

- ``pytest --cov --cov-context=test``: ``test_flask_ways.py::test_pytest_cov``,
  ``test_fastapi_ways.py::test_pytest_cov``, ``test_django_ways.py::test_pytest_cov``
  (Django: "or: pytest --cov, with the plugin"), ``def test_register(page: Page)``
  (a test taking only ``page``): the Flask and Django page tests.
- ``coverage run -m pytest --livecov-test-contexts``:
  ``test_fastapi_ways.py::test_coverage_run_with_livecov_test_contexts``.
- ``pytest -n 2 --cov``: ``test_fastapi_ways.py::test_pytest_xdist``.
- ``livecov run --app flaskr:create_app -- sh -c 'curl -fsS "$LIVE_SERVER_URL/hello"'`` and
  ``curl -H "Livecov-Context: smoke" ...``: ``test_*_ways.py::test_livecov_run_curl``.
- ``livecov run -- npx playwright test`` (a non-Python client, app from ``[tool.livecov]``):
  the same curl cells (``sh -c 'curl ...'``, no ``--app``).
- ``livecov run --server gunicorn --workers 3 -- node e2e/smoke.mjs``:
  ``test_django_ways.py::test_livecov_run_gunicorn_workers`` (WSGI) and
  ``test_fastapi_ways.py::test_livecov_run_gunicorn_uvicorn_workers`` (ASGI,
  ``--app main:app --server gunicorn --workers 3``).
- "Several workers" (``workers = N``): ``livecov run --workers 2`` on an ASGI app,
  ``test_fastapi_ways.py::test_livecov_run_uvicorn_workers``; on a WSGI app under werkzeug,
  the one-line refusal,
  ``test_flask_ways.py::test_several_workers_under_werkzeug_refused_in_one_line``.
- ``livecov run --app main:app -- pytest tests/e2e`` (and the Flask project's
  ``livecov run -- pytest``): ``test_fastapi_ways.py::test_livecov_run_pytest``,
  ``test_flask_ways.py::test_livecov_run_pytest``.
- ``coverage run -m pytest tests/unit`` then ``livecov run``, and ``livecov contexts``:
  ``test_django_ways.py::test_django_test_runner_then_livecov_run`` (the unit tests by
  Django's own runner under ``coverage run``); ``livecov contexts`` is read in every cell.
- Django's ``[tool.livecov] app = "mysite.wsgi:application"`` with
  ``django_coverage_plugin``: every cell of ``test_django_ways.py``; ``plugins =
  ["livecov.jinja"]``: every cell of the Flask and FastAPI projects.
- ``[tool.livecov] app``/``reset``/``[tool.livecov.env]``: the projects' own pyproject.toml;
  a src layout's ``pythonpath = ["src"]`` in ``[tool.livecov]``: every Flask cell; without
  it (pytest's ``pythonpath`` only), the one-line refusal:
  ``test_flask_ways.py::test_src_layout_without_livecov_pythonpath_refused_in_one_line``.

Not cells (no live server, or not a way of running the tests): ``livecov affected`` and
``pytest --livecov-affected`` (tests/livecov/test_affected_*.py), the library API
(``LiveServer``, tests/livecov/test_server.py), ``--result-file`` and exit statuses
(tests/livecov/test_exit_statuses.py).
"""
