"""How a local run's Snakemake scheduler picks jobs: two defaults that cost time, changed.

Called from the workflow's ``onstart`` handler, when the scheduler exists and before its
first round (the scheduling settings are given to Snakemake only after the Snakefile is
read, so a Snakefile cannot set them earlier). Measured with Snakemake 9.27.1:

- The job-rate limiter (``--max-jobs-per-timespan``, default 100/1s) re-plans the run at
  the end of each period, and every re-plan starts another such timer, so re-plans
  multiply with each job event; each one stats every input of every ready job and solves
  the job-selection problem again. At 1,000 plates (21 chunk jobs of 100 files, ready at
  once) that was 3,949 re-plans and 87 of a 2-core run's 458 CPU-seconds. A local run
  starts jobs only as cores free up, so the limit itself does nothing there.
- The default ``ilp`` job selection runs the CBC solver (through PuLP) in each round, and
  CBC now and then hangs until its 10 s time limit, after which PuLP reports the solution
  it has as optimal: a silent 10 s stall (3 in 3,000 solves of a three-job problem here;
  one in a dozen one-plate reruns of 1,000 plates). The greedy selection, which also
  follows rule priorities, does not call a solver.

A limit or scheduler given on the command line or in a profile is kept when it differs
from Snakemake's default; cluster runs are left alone.
"""

from __future__ import annotations

from typing import Any

#: Snakemake's default ``--max-jobs-per-timespan``: jobs and seconds.
DEFAULT_RATE_LIMIT = (100, 1)
#: Snakemake's default ``--scheduler``.
DEFAULT_SCHEDULER = "ilp"


def tune_local_scheduler(workflow: Any) -> list[str]:
    """Switch off the default job-rate limiter and the ILP job selection of a local run;
    return what was changed (one line each, for the log)."""
    scheduler = getattr(workflow, "scheduler", None)
    if scheduler is None or not workflow.local_exec:
        return []
    changed = []
    limiter = getattr(scheduler, "job_rate_limiter", None)
    if limiter is not None and (limiter.max_jobs, limiter.timespan) == DEFAULT_RATE_LIMIT:
        scheduler.job_rate_limiter = None
        changed.append("job-rate limiter off (local run)")
    greedy = getattr(scheduler, "job_selector_greedy", None)
    if (
        workflow.scheduling_settings.scheduler == DEFAULT_SCHEDULER
        and greedy is not None
        and hasattr(scheduler, "_job_selector")
    ):
        scheduler._job_selector = greedy
        changed.append("greedy job selection (local run)")
    return changed
