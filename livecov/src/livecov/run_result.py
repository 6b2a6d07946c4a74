"""What a ``livecov run`` ends with: its exit status, every failure, the result file.

Each failure is an :class:`~livecov.errors.Outcome` and a one-line message; the first one
sets the exit status (:data:`livecov.errors.OUTCOMES`), and the result file
(``--result-file``) says it for scripts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livecov import errors
from livecov.errors import Outcome

RESULT_FORMAT = 1  # the result file's "format": raised when a key changes meaning


@dataclass
class Failure:
    outcome: Outcome
    status: int
    message: str


@dataclass
class RunResult:
    exit_status: int = errors.EXIT_OK
    failures: list[Failure] = field(default_factory=list)
    command_status: int | None = None
    total: float | None = None
    url: str = ""
    app_errors: int = 0
    first_exception: str | None = None

    @property
    def reasons(self) -> list[str]:
        return [failure.message for failure in self.failures]

    def fail(self, outcome: Outcome, message: str, status: int | None = None) -> None:
        """Record a failure; the first one sets the exit status."""
        status = outcome.status if status is None else status
        self.failures.append(Failure(outcome, status, message))
        if self.exit_status == errors.EXIT_OK:
            self.exit_status = status

    def as_json(self) -> dict[str, Any]:
        """What the result file holds (see docs/run.md: "Exit status")."""
        first = self.failures[0].outcome if self.failures else errors.OK
        return {
            "format": RESULT_FORMAT,
            "exit_status": self.exit_status,
            "outcome": first.name,
            "from_command": first is errors.COMMAND_FAILED,
            "command_status": self.command_status,
            "failures": [
                {"outcome": f.outcome.name, "exit_status": f.status, "message": f.message}
                for f in self.failures
            ],
            "coverage": self.total,
            "url": self.url,
            "app_errors": {"count": self.app_errors, "first_exception": self.first_exception},
        }


def write_result_file(path: str | Path, result: RunResult) -> None:
    Path(path).write_text(json.dumps(result.as_json(), indent=2) + "\n")
