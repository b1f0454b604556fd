"""Synthetic Liuzhou audit folders with their expected findings: test fixtures, kept out of the package.

Modules, each importing only those above it (rounds and snapshot stand alone):

* ``names``: county, township, school and person names, subjects and degrees;
* ``model``: the rows (schools, classes, teachers, safety, facilities, statistics), the dataset, the
  planted-case types and the constants the generators and the oracle share;
* ``rounds``: the history rounds derived from ``cases/liuzhou-2025`` (liuzhou-2024, the recheck, waivers);
* ``oracle``: the core pack's rules reimplemented on the rows, written to ``expected.yaml``;
* ``packs``: what the other four packs read, with planted cases for their rules (``planted.yaml``);
  it leaves alone the classes ``rounds`` changes;
* ``folder``: the files of each format, spelled as people type them, and ``audit.yaml``;
* ``city``: the core rows and their planted cases at case, city or province scale; the command line;
* ``snapshot``: the engine's verdicts on a case, checked against both, as ``expected-all.yaml``.

Run from the repository's root with ``tests`` on the path, e.g.
``PYTHONPATH=tests python -m synthetic.city OUT_DIR --scale case``; pytest puts ``tests`` there itself.
"""
