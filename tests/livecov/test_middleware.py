"""The context gate: who may run at the same time, and when contexts switch."""

from __future__ import annotations

import threading

from livecov.server.wsgi import ContextGate, clean_context


class Visit:
    """A thread inside the gate until released."""

    def __init__(self, gate: ContextGate, context: str | None) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        # A daemon: a broken gate that never lets it out must not keep pytest from exiting.
        self.thread = threading.Thread(target=self._run, args=(gate, context), daemon=True)
        self.thread.start()

    def _run(self, gate: ContextGate, context: str | None) -> None:
        with gate.inside(context):
            self.entered.set()
            self.release.wait(timeout=WAIT)

    def leave(self) -> None:
        self.release.set()
        self.thread.join(timeout=WAIT)


# How long to watch a blocked thread stay blocked: there is no event for "did not happen".
BLOCKED = 0.3
# The longest a thread may take to get in once it is allowed to (a bound, not a pause).
WAIT = 10


def recording_gate(switches: list[str]) -> ContextGate:
    return ContextGate("live-server", switch=switches.append)


def test_same_context_runs_together_without_switching() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    first = Visit(gate, "a")
    assert first.entered.wait(WAIT)
    second = Visit(gate, "a")
    assert second.entered.wait(WAIT)  # in while the first is still inside
    first.leave()
    second.leave()
    assert switches == ["a"]  # one switch for both


def test_other_context_waits_until_everyone_left() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    a = Visit(gate, "a")
    assert a.entered.wait(WAIT)
    b = Visit(gate, "b")
    assert not b.entered.wait(BLOCKED)  # "a" is still inside
    a.leave()
    assert b.entered.wait(WAIT)
    b.leave()
    assert switches == ["a", "b"]


def test_newcomers_queue_behind_a_waiting_context() -> None:
    gate = recording_gate([])
    a1 = Visit(gate, "a")
    assert a1.entered.wait(WAIT)
    b = Visit(gate, "b")
    assert not b.entered.wait(BLOCKED)
    a2 = Visit(gate, "a")  # same context as inside, but "b" waits first
    assert not a2.entered.wait(BLOCKED)
    a1.leave()
    assert b.entered.wait(WAIT)
    b.leave()
    assert a2.entered.wait(WAIT)
    a2.leave()


def test_a_waiting_context_goes_before_any_number_of_newcomers() -> None:
    # All waiters wake when the gate empties; the one that waited first must win the race,
    # however many newcomers of the context inside race it.
    switches: list[str] = []
    gate = recording_gate(switches)
    a1 = Visit(gate, "a")
    assert a1.entered.wait(WAIT)
    b = Visit(gate, "b")
    assert not b.entered.wait(BLOCKED)
    newcomers = [Visit(gate, "a") for _ in range(10)]
    a1.leave()
    assert b.entered.wait(WAIT)
    assert not any(n.entered.is_set() for n in newcomers)
    b.leave()
    for n in newcomers:  # then all of them at once: one switch back to "a"
        assert n.entered.wait(WAIT)
    for n in newcomers:
        n.leave()
    assert switches == ["a", "b", "a"]


def test_exclusive_visit_runs_alone() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    reset = Visit(gate, None)
    assert reset.entered.wait(WAIT)
    same = Visit(gate, "live-server")  # even the context being recorded waits
    assert not same.entered.wait(BLOCKED)
    reset.leave()
    assert same.entered.wait(WAIT)
    same.leave()
    assert switches == []  # never a switch for the exclusive visit or the same context


def test_clean_context() -> None:
    assert clean_context(None) == "live-server"
    assert clean_context("  ") == "live-server"
    assert clean_context("a\x00b\nc") == "abc"
    assert len(clean_context("x" * 1000)) == 500
