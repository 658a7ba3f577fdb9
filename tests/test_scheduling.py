"""The local-run scheduler settings (killcurve.pipeline.scheduling); the workflow test
(tests/test_workflow.py) checks the same on Snakemake's real scheduler."""

from __future__ import annotations

from types import SimpleNamespace

from killcurve.pipeline.scheduling import tune_local_scheduler


def workflow(local: bool, limit: tuple[int, float] | None, scheduler: str) -> SimpleNamespace:
    limiter = None if limit is None else SimpleNamespace(max_jobs=limit[0], timespan=limit[1])
    job_scheduler = SimpleNamespace(
        job_rate_limiter=limiter, _job_selector="ilp", job_selector_greedy="greedy"
    )
    return SimpleNamespace(
        scheduler=job_scheduler,
        local_exec=local,
        scheduling_settings=SimpleNamespace(scheduler=scheduler),
    )


def test_a_local_run_with_snakemakes_defaults_gets_no_limiter_and_greedy_selection() -> None:
    wf = workflow(local=True, limit=(100, 1.0), scheduler="ilp")
    assert tune_local_scheduler(wf) == [
        "job-rate limiter off (local run)",
        "greedy job selection (local run)",
    ]
    assert wf.scheduler.job_rate_limiter is None
    assert wf.scheduler._job_selector == "greedy"


def test_settings_the_user_chose_are_kept() -> None:
    wf = workflow(local=True, limit=(50, 1.0), scheduler="greedy")
    assert tune_local_scheduler(wf) == []
    assert (wf.scheduler.job_rate_limiter.max_jobs, wf.scheduler._job_selector) == (50, "ilp")


def test_a_cluster_run_is_left_alone() -> None:
    wf = workflow(local=False, limit=(100, 1.0), scheduler="ilp")
    assert tune_local_scheduler(wf) == []
    assert wf.scheduler.job_rate_limiter is not None
    assert wf.scheduler._job_selector == "ilp"


def test_no_scheduler_no_change() -> None:
    wf = SimpleNamespace(scheduler=None, local_exec=True)
    assert tune_local_scheduler(wf) == []
