"""Ratio benchmarks: the platform against a hand-written baseline, side by side.

Run from the repository root, e.g. ``.venv/bin/python -m benchmarks.run_all``.
See ``benchmarks/README.md``.
"""
