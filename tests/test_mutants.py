"""Tests written to kill what survived `python -m tests.mutation` in the money and rating code: each pins a
boundary or an operator of admission, budgets, the ledger or the ratings that the rest of the suite let pass."""

from __future__ import annotations
