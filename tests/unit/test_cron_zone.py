"""The periodic jobs run at the service's local time, whatever the host's clock zone."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    from rq.cron import CronJob
    from worker.__main__ import _use_service_time_zone

    _use_service_time_zone("Europe/Stockholm")
    job = CronJob(queue_name="q", func=print, cron="15 7 * * *")
    job.latest_enqueue_time = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)
    summer = job.get_next_enqueue_time().astimezone(ZoneInfo("Europe/Stockholm"))
    job.latest_enqueue_time = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    winter = job.get_next_enqueue_time().astimezone(ZoneInfo("Europe/Stockholm"))
    print(summer.isoformat(), winter.isoformat())
    """
)


def test_reminders_run_at_a_quarter_past_seven_in_stockholm_on_a_utc_host() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    summer, winter = result.stdout.split()
    assert summer == "2026-07-02T07:15:00+02:00"
    assert winter == "2026-12-02T07:15:00+01:00"
