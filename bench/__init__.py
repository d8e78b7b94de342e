"""Benchmarks of engagement-api against naive baselines measured in the same run.

Run from the repository root: ``.venv/bin/python -m bench`` (or ``make bench``); see
bench/README.md for the figures and what they mean.
"""
