"""What runs in workers: the sync plan, the run machinery and one module per flow."""
