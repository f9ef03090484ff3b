"""One module per flow of the sync plan; each flow is a function taking a RunContext."""
