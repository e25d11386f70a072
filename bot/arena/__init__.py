"""The arena: blind rounds, members' votes and per-server ratings of the models."""
