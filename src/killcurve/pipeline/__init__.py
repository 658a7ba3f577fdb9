"""How the workflow runs: what a run leaves behind when a step fails (``run_status``)."""
