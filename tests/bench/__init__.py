"""Benchmarks and fault runs against the real stack (not part of ``make test``).

    python -m tests.bench.run      load, latency, memory, cold start, LINE timing (make bench)
    python -m tests.bench.faults   SIGKILL the three processes during scripted conversations
"""
