"""moai: multi-model AI roundtables. Discord-free core (config, DB, model clients, orchestration)."""
