"""Discord glue shared by the cogs: option transformers, permission checks, attached files, the command tree's
error path (commands and buttons alike), discussion threads and the roundtable's stages on Discord."""
