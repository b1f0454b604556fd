"""Synthetic Liuzhou audit folders with their expected findings: test fixtures, kept out of the package.

Run from the repository's root with ``tests`` on the path, e.g.
``PYTHONPATH=tests python -m synthetic.city OUT_DIR --scale case``; pytest puts ``tests`` there itself.
"""
