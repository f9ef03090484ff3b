"""Fixtures for the sandbox and client tests: the shared `sandbox` fixture."""

from tests.support.sandbox import sandbox  # noqa: F401
