from pipeline.jobs import JobStatus, Step, StepStatus, job_progress, outcome


def step(name, status, progress=0.0):
    return Step(name=name, op="x", use=":original", params={}, queue="light", status=status,
                progress=progress)  # fmt: skip


def test_a_job_succeeds_only_when_every_step_succeeded():
    assert outcome([step("a", StepStatus.SUCCEEDED), step("b", StepStatus.RUNNING)]) is None
    done = [step("a", StepStatus.SUCCEEDED), step("b", StepStatus.SUCCEEDED)]
    assert outcome(done) == JobStatus.SUCCEEDED


def test_one_failed_step_fails_the_job_at_once():
    steps = [step("a", StepStatus.FAILED), step("b", StepStatus.RUNNING)]
    assert outcome(steps) == JobStatus.FAILED


def test_progress_is_the_mean_of_the_steps_and_counts_success_as_whole():
    steps = [step("a", StepStatus.SUCCEEDED, 0.3), step("b", StepStatus.RUNNING, 0.5)]
    assert job_progress(steps) == 0.75
    assert job_progress([]) == 0.0
