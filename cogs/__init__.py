"""Discord-facing code: one cog per file, each with `async def setup(bot)`."""
