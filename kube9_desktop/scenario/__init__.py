"""Scenario files run on simulated time: the format, the driver, the report."""
