"""Clients for the platforms Wholesync talks to; each one is the single place that sends that platform's calls.

Transports are injected by configuration, so tests and `make run` reach local fakes without the code knowing.
"""
