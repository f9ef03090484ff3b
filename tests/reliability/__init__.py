"""Fault-injection tests of the runtime: real processes killed or stopped, a real Redis restarted, a real database."""
