"""The Discord front end: `client` (the bot class), `delivery` (answers onto Discord), `utils` (glue) and one
module or package per feature (a cog, its commands and its buttons), found by walking this package."""
