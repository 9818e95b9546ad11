"""The one home of the sequence that handles a submission, as plain functions.

`submission.py`: receive an inbox entry, read and validate it (an `Assessment`), compare it
with what the warehouse holds, record and load it, write its report. The Prefect flows, the
`glotip` commands, the benchmark and the tests all call these functions; `settings.py` is the
one configuration every command reads.
"""
