"""Data entry: the workbook schools fill in, and checking what they filled in before an audit.

`columns` works out which tables and columns chosen rule packs read (and which rules read each);
`template` writes the entry workbook from it and the data contract (`inspector template`);
`check` loads a filled workbook or folder with the audit's own loader and marks every bad cell
on a copy (`inspector check`). The package sits above `records` and `rules` and below the
command line: it imports them, nothing imports it but `cli`.
"""
