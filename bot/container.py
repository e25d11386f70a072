"""The core's objects, built once and held alike by the Discord bot and by `moai console`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import AppConfig
from bot.llm.registry import ModelClients
from bot.roundtable import Roundtable
from bot.services.admission import Admission
from bot.services.arena import ArenaService
from bot.services.discussions import DiscussionStore
from bot.services.forecasts import ForecastService
from bot.services.judge import PositionJudge
from bot.services.orchestrator import Orchestrator
from bot.services.projects import ProjectService
from bot.services.recovery import Recovery
from bot.services.runs import RunRegistry
from bot.services.tagging import Tagger
from bot.services.web_search import WebSearchService

__all__ = ["Services"]


@dataclass(slots=True)
class Services:
    config: AppConfig
    store: DiscussionStore
    admission: Admission
    runs: RunRegistry
    orchestrator: Orchestrator
    roundtable: Roundtable
    recovery: Recovery
    projects: ProjectService
    arena: ArenaService

    def reconfigure(self, config: AppConfig) -> None:
        """A reloaded config: new admissions use it; running runs keep what they were admitted with."""
        self.config = config
        self.admission.config = config
        self.arena.config = config
        self.roundtable.config = config
        if self.orchestrator.tagger is not None:
            self.orchestrator.tagger.config = config
        if self.orchestrator.judge is not None:
            self.orchestrator.judge.config = config

    @classmethod
    def build(cls, config: AppConfig, clients: ModelClients) -> Services:
        store = DiscussionStore()
        runs = RunRegistry(store)
        arena = ArenaService(config)
        admission = Admission(config)
        orchestrator = Orchestrator(clients, store, runs, arena, Tagger(config, clients, store),
                                    PositionJudge(config, clients),
                                    WebSearchService(lambda: clients.config, clients.session, clients.environ))
        roundtable = Roundtable(config, store, admission, runs, orchestrator)
        roundtable.forecasts = ForecastService()
        return cls(config=config, store=store, admission=admission, runs=runs, orchestrator=orchestrator,
                   roundtable=roundtable,
                   recovery=Recovery(store, runs), projects=ProjectService(store), arena=arena)
