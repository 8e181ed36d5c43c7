"""The sessions bounded context: what a pair does once matching formed it.

Meeting plan (R5), sessions (R6, R9), cadence (R7), objectives and action
items (R4, R10), notes and feedback (R8, R11), reports of commercial
solicitation (R1/R2) and the programme report for partners. ``domain`` is pure
(no server, no clock, no I/O); the service wiring is built on top of it.
"""
