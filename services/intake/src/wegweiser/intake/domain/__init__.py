"""Intake's domain: arrivals (households allocated to a municipality). Pure: no I/O."""
