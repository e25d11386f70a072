"""Data files shipped with moai (list prices)."""
