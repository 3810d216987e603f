"""Tests of shortly._core: the future, cancellation, waits, deadlocks and reports."""
