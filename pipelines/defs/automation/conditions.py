"""The automation condition of the assets after ingest."""

import dagster as dg

REPLAN = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
"""Re-materialize when an upstream updates (eager), but not from an upstream whose blocking
checks failed: a table that breaks its contract feeds no design, a plan over its budget or
whose cost does not add up is not exported. (Within one run, Dagster's run machinery skips
what is downstream of a failed blocking check; this condition keeps the automation sensor from
requesting it afterwards.)"""
