"""Seconds per pipeline stage of one audit: `python benchmarks/stages.py FOLDER [--workers N]`.

The stages of `inspector.audit.run_audit`, timed one by one, to see where an audit's time
goes (`run.py` times whole commands). Outputs go to a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from inspector.audit import AuditResult
from inspector.engine.entities import EntityStore
from inspector.engine.evaluate import evaluate
from inspector.engine.indicators import compute_indicators
from inspector.findings import FindingBuilder
from inspector.output import write_outputs
from inspector.records.config import load_config_doc
from inspector.records.loader import load_dataset
from inspector.rules.compiler import compile_rulebook, effective_params
from inspector.rules.packs import load_packs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    last = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal last
        now = time.perf_counter()
        print(f"{stage:<12} {now - last:6.2f} s", flush=True)
        last = now

    gc.disable()  # as run_audit does while loading
    config, _ = load_config_doc(args.folder)
    dataset = load_dataset(args.folder, config)
    store = EntityStore(dataset)
    gc.freeze()
    gc.enable()
    lap("load")
    packs = load_packs(config.packs)
    params, _ = effective_params(packs, config.params)
    book = compile_rulebook(packs, as_of=config.as_of, params=params, extra_columns=store.numeric)
    lap("compile")
    compute_indicators(book.indicators, store)
    lap("indicators")
    outcomes = evaluate(book, store, dataset.missing_kinds, workers=args.workers)
    lap("evaluate")
    builder = FindingBuilder(book, store)
    findings, gaps = builder.build(outcomes)
    indicators = builder.indicators(outcomes)
    lap("findings")
    with tempfile.TemporaryDirectory() as out:
        write_outputs(AuditResult(config, dataset, book, outcomes, findings, gaps, indicators), Path(out))
    lap("outputs")


if __name__ == "__main__":
    main()
