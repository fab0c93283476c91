"""``unifiedqr selfcheck``: the bounded reliability suite, run against a throwaway database.

Fuzzing of every parser, schema-driven requests for every role, crash drills and a short load,
with the figures printed so that an operator can check the promises on their own machine.
"""
