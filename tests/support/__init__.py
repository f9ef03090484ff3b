"""Test harness pieces: service selection, factories and helper processes."""
