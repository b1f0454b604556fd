"""The formats of an audit's outputs: findings.json (`document`), the rectification and evidence
CSVs, the Markdown report, and publishing a set of files as one (`atomic.publish_set`). Writing
them all, with the reports built from them, is `inspector.publish.write_outputs`."""
