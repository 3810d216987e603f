"""Shared fixtures: every test fails on an unhandled failure unless it expects one."""

from __future__ import annotations

pytest_plugins = ["shortly.testing"]
