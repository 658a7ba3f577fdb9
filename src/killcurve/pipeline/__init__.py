"""How the workflow runs: the rule functions by stage (``steps`` lists them all), the
``killcurve check`` start-up checks (``check``), recovery after a killed run, the local
scheduler settings, and what a failed run leaves behind (``run_status``)."""
