"""Clients for OpenAI-compatible and Anthropic chat APIs over one shared aiohttp session."""
