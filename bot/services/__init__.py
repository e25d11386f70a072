"""Plain service objects of the Discord-free core, held alike by the bot and by `moai console`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import AppConfig
from bot.llm.registry import ModelClients
from bot.services.admission import Admission
from bot.services.arena import ArenaService
from bot.services.discussions import DiscussionStore
from bot.services.orchestrator import Orchestrator
from bot.services.projects import ProjectService
from bot.services.recovery import Recovery
from bot.services.runs import RunRegistry


@dataclass(slots=True)
class Services:
    config: AppConfig
    store: DiscussionStore
    admission: Admission
    runs: RunRegistry
    orchestrator: Orchestrator
    recovery: Recovery
    projects: ProjectService
    arena: ArenaService

    def reconfigure(self, config: AppConfig) -> None:
        """A reloaded config: new admissions use it; running runs keep what they were admitted with."""
        self.config = config
        self.admission.config = config
        self.arena.config = config

    @classmethod
    def build(cls, config: AppConfig, clients: ModelClients) -> Services:
        store = DiscussionStore()
        runs = RunRegistry(store)
        arena = ArenaService(config)
        return cls(config=config, store=store, admission=Admission(config), runs=runs,
                   orchestrator=Orchestrator(clients, store, runs, arena), recovery=Recovery(store, runs),
                   projects=ProjectService(store), arena=arena)
