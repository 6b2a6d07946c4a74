"""The features livecov's front ends switch on as they fold the server's data in.

:mod:`livecov.measure` imports no feature: ``livecov run`` and the pytest plugin call
:func:`register_data_steps`, which registers, in this order:

* livecov.jinja's template repair, on each of the server's data files and on the data
  ``livecov run`` combines into (docs/jinja.md, "Branches, and the repair step");
* livecov.affected's record of the commit and the files measured, on the data ``livecov
  run`` combines into (the pytest plugin records after pytest-cov combined:
  :mod:`livecov.pytest_affected`).

Each feature is imported when its step first runs, not when it is registered.
"""

from __future__ import annotations

from livecov.measure import DataStep, register_step


def _repair_templates(data_file: str) -> bool:
    from livecov.jinja.repair import repair_data

    return repair_data(data_file) > 0


def _record_commit(data_file: str) -> bool:
    from livecov.affected.record import record_if_in_git

    record_if_in_git(data_file)
    return False  # the lines and arcs are as they were


TEMPLATE_REPAIR = DataStep(
    "template repair (livecov.jinja)", _repair_templates, server_files=True, combined=True
)
COMMIT_RECORD = DataStep("commit record (livecov.affected)", _record_commit, combined=True)


def register_data_steps() -> None:
    register_step(TEMPLATE_REPAIR)
    register_step(COMMIT_RECORD)
