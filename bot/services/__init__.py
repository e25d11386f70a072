"""The core's services: storage of discussions, admission, runs, the orchestrator that plays modes, the arena,
projects and the ledger. They are built together in bot/container.py; the use cases are bot/roundtable."""
