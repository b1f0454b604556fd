"""Helpers for rule authors testing their packs: build a small audit in code and read its verdicts."""
