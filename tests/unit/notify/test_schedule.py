import random

import pytest

from pipeline.notify.schedule import DEFAULT_SCHEDULE, next_delay, parse_schedule


def test_the_default_schedule_is_ten_attempts_over_about_three_and_a_half_days():
    assert DEFAULT_SCHEDULE[:3] == (5, 300, 1800)
    assert len(DEFAULT_SCHEDULE) + 1 == 10
    assert 3 * 86400 < sum(DEFAULT_SCHEDULE) < 4 * 86400


def test_the_environment_replaces_the_schedule_and_refuses_negative_seconds():
    assert parse_schedule("0.2, 1,3") == (0.2, 1.0, 3.0)
    assert parse_schedule("") == DEFAULT_SCHEDULE
    with pytest.raises(ValueError):
        parse_schedule("1,-2")


def test_delays_follow_the_schedule_with_jitter_and_end_when_it_is_spent():
    rng = random.Random(7)
    delays = [next_delay(n, (10, 100), rng=rng) for n in (1, 2, 3)]
    assert 9 <= delays[0] <= 11 and 90 <= delays[1] <= 110
    assert delays[2] is None


def test_a_longer_retry_after_is_honoured_up_to_a_day():
    assert next_delay(1, (5,), retry_after=120, rng=random.Random(1)) == 120
    assert next_delay(1, (5,), retry_after=10**9, rng=random.Random(1)) == 86400
