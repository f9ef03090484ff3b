"""stub."""

RULES = []
