"""Hypothesis: the Future's state machine against a simple model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import shortly


class Model:
    """What a future should be: a state and what it holds, nothing else."""

    def __init__(self) -> None:
        self.state = "pending"  # pending, running, finished, failed, cancelled
        self.value: Any = None
        self.callbacks_added = 0

    @property
    def done(self) -> bool:
        return self.state in ("finished", "failed", "cancelled")


class FutureMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.future: shortly.Future[int] = shortly.Future()
        self.model = Model()
        self.calls = 0

    def _callback(self, f: shortly.Future[int]) -> None:
        assert f.done()
        self.calls += 1

    @rule(value=st.integers())
    def set_result(self, value: int) -> None:
        m = self.model
        if m.state in ("finished", "failed"):
            with pytest.raises(shortly.InvalidStateError):
                self.future.set_result(value)
        else:
            self.future.set_result(value)
            if m.state != "cancelled":
                m.state, m.value = "finished", value

    @rule(message=st.text(max_size=5))
    def set_exception(self, message: str) -> None:
        m = self.model
        error = ValueError(message)
        if m.state in ("finished", "failed"):
            with pytest.raises(shortly.InvalidStateError):
                self.future.set_exception(error)
        else:
            self.future.set_exception(error)
            if m.state != "cancelled":
                m.state, m.value = "failed", error

    @rule(value=st.integers())
    def try_set_result(self, value: int) -> None:
        m = self.model
        won = self.future.try_set_result(value)
        assert won == (m.state in ("pending", "running"))
        if won:
            m.state, m.value = "finished", value

    @rule(message=st.none() | st.text(max_size=5))
    def cancel(self, message: str | None) -> None:
        m = self.model
        result = self.future.cancel(message)
        if m.state == "pending":
            m.state, m.value = "cancelled", message
        assert result == (m.state == "cancelled")

    @rule()
    def set_running(self) -> None:
        m = self.model
        if m.state == "pending":
            assert self.future.set_running_or_notify_cancel() is True
            m.state = "running"
        elif m.state == "cancelled":
            assert self.future.set_running_or_notify_cancel() is False
        else:
            with pytest.raises(RuntimeError):
                self.future.set_running_or_notify_cancel()

    @rule()
    def add_callback(self) -> None:
        self.future.add_done_callback(self._callback)
        self.model.callbacks_added += 1

    @rule()
    def read(self) -> None:
        m, f = self.model, self.future
        if m.state == "finished":
            assert f.result(timeout=0) == m.value
            assert f.exception(timeout=0) is None
        elif m.state == "failed":
            assert f.exception(timeout=0) is m.value
        elif m.state == "cancelled":
            with pytest.raises(shortly.CancelledError) as info:
                f.result(timeout=0)
            assert (str(info.value) or None) == (m.value or None)
        else:
            with pytest.raises(shortly.TimeoutError):
                f.result(timeout=0)

    @invariant()
    def agrees_with_model(self) -> None:
        m, f = self.model, self.future
        assert f.done() == m.done
        assert f.cancelled() == (m.state == "cancelled")
        assert f.running() == (m.state == "running")
        # Every callback runs exactly once, and only once the future is done.
        assert self.calls == (m.callbacks_added if m.done else 0)

    def teardown(self) -> None:
        if self.model.state == "failed":
            self.future.exception()


FutureMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=25, deadline=None)
test_future_state_machine = FutureMachine.TestCase
