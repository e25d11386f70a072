"""Helpers shared by the cogs (Discord display, webhooks, checks, autocomplete)."""
