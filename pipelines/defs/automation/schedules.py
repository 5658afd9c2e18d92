"""The scheduled re-plan: the `replan` job on a cron, weekly unless `TOKENPLAN_REPLAN_CRON` says
otherwise."""

import os

import dagster as dg

REPLAN_CRON = os.environ.get("TOKENPLAN_REPLAN_CRON", "0 6 * * 1")
"""Cron expression of the scheduled re-plan; default Mondays at 06:00."""
REPLAN_TIMEZONE = os.environ.get("TOKENPLAN_REPLAN_TIMEZONE", "UTC")
"""IANA time zone the cron is read in."""

scheduled_replan = dg.ScheduleDefinition(
    name="scheduled_replan",
    job_name="replan",
    cron_schedule=REPLAN_CRON,
    execution_timezone=REPLAN_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Ingest every input, rebuild the design space and solve the build plan on "
    f"`{REPLAN_CRON}` ({REPLAN_TIMEZONE}); set TOKENPLAN_REPLAN_CRON / TOKENPLAN_REPLAN_TIMEZONE "
    "to change it.",
)
