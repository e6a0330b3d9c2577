"""What each system's worker process imports: one no-op task and one latency probe, nothing else.

Every module here imports only its own queue library and :mod:`bench.peers.apps.sink`, so the
worker's RSS is the system's own.
"""
