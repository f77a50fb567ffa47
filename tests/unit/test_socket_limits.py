"""The two bounds on a hostile client, on their own: the socket's token bucket and the windows
that keep refused attempts in the log bounded and exactly counted."""

from __future__ import annotations

import datetime as dt

from safeclass.app.live.attempts import RefusedAttempts
from safeclass.web import protocol
from safeclass.web.rate_limit import MessageLimit, Verdict

T0 = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


# covers: C22
def test_a_burst_is_read_then_slowed_then_closed_and_a_pause_forgives_it():
    limit = MessageLimit(rate=20, burst=60, patience=30)
    verdicts = [limit.take(0.0) for _ in range(60 + 30)]
    assert verdicts[:60] == [Verdict.READ] * 60
    assert verdicts[60:89] == [Verdict.SLOW_DOWN] * 29
    assert verdicts[89] is Verdict.CLOSE
    calm = MessageLimit(rate=20, burst=60, patience=30)
    for second in range(600):  # a teacher at 10 a second for ten minutes
        for tenth in range(10):
            assert calm.take(second + tenth / 10) is Verdict.READ


# covers: C22
def test_depth_counts_brackets_outside_strings_only():
    assert protocol.too_deep("[" * 9 + "]" * 9)
    assert not protocol.too_deep("[" * 8 + "]" * 8)
    assert not protocol.too_deep('{"type": "chat", "text": "' + "[{" * 3000 + '"}')
    assert not protocol.too_deep('{"text": "\\"[[[[[[[[[[["}')
    assert protocol.too_deep('{"a": "\\\\", "b": ' + "[" * 20 + "]" * 20 + "}")


# covers: C21, CLA-16
def test_refused_attempts_are_logged_ten_a_minute_and_the_rest_counted_exactly():
    attempts = RefusedAttempts()
    written = []
    for i in range(1000):
        at = T0 + dt.timedelta(milliseconds=i)
        written += attempts.refused("p1", "Admit", "Only staff can admit pupils", "CLA-16", at)
    assert [e.type for e in written] == ["AttemptRefused"] * 10
    assert attempts.wake_at == T0 + dt.timedelta(minutes=1)
    assert attempts.due(T0 + dt.timedelta(seconds=59)) == []
    (summary,) = attempts.due(T0 + dt.timedelta(minutes=1))
    assert summary.type == "AttemptsRefused"
    assert summary.payload["count"] == 990
    assert summary.payload["commands"] == {"Admit": 990}
    assert attempts.wake_at is None
    # a second actor, and the end: everything counted is written
    for _ in range(12):
        attempts.refused("p2", "EndSession", "Only staff can end", "CLA-16", T0)
    assert attempts.flush(T0)[0].payload["count"] == 2
    assert attempts.flush(T0) == []
