"""Prometheus metrics (prometheus-client), recorded where the events happen and served by bot/ops_server.py.

One registry for the process. Labels are bounded: mode, outcome, model alias, provider name and error class
come from config and code, never from members' text.
"""

from __future__ import annotations

from prometheus_client import (
               CollectorRegistry,
               Counter,
               Gauge,
               GCCollector,
               Histogram,
               PlatformCollector,
               ProcessCollector,
               disable_created_metrics,
)

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: they double the output and no dashboard reads them
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)
FIRST_TOKEN_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)

RUNS = Counter("moai_runs", "Runs (a discussion's rounds played in one go) by mode and outcome",
               ["mode", "outcome"], registry=REGISTRY)
RUN_SECONDS = Histogram("moai_run_duration_seconds", "Wall time of a run", ["mode"], registry=REGISTRY,
                        buckets=LATENCY_BUCKETS)
ANSWER_SECONDS = Histogram("moai_answer_duration_seconds", "From request to the last token of an answer",
                           ["model"], registry=REGISTRY, buckets=LATENCY_BUCKETS)
FIRST_TOKEN_SECONDS = Histogram("moai_time_to_first_token_seconds", "From request to the first answer text",
                                ["model"], registry=REGISTRY, buckets=FIRST_TOKEN_BUCKETS)
ANSWERS = Counter("moai_answers", "Model answers by outcome (complete, failed, cancelled)", ["model", "status"],
                  registry=REGISTRY)
FAILURES = Counter("moai_model_failures", "Failed answers by provider and reason (error class)",
                   ["provider", "reason"], registry=REGISTRY)
RETRIES = Counter("moai_provider_retries", "Requests retried after a 429, 5xx or dropped connection", ["provider"],
                  registry=REGISTRY)
DISCORD_429 = Counter("moai_discord_rate_limited", "Discord 429 responses (waited out, or abandoned and retried)",
                      ["scope"], registry=REGISTRY)
SPEND = Counter("moai_spend_usd", "Estimated spend in USD", ["model"], registry=REGISTRY)
TOKENS = Counter("moai_tokens", "Tokens billed", ["model", "direction"], registry=REGISTRY)
SEARCHES = Counter("moai_web_searches", "Web searches by who ran them (a provider or moai's backend) and outcome "
                   "(ok, failed, refused)", ["origin", "outcome"], registry=REGISTRY)
ACTIVE_RUNS = Gauge("moai_active_runs", "Runs playing now", registry=REGISTRY)
ACTIVE_STREAMS = Gauge("moai_active_streams", "Model answers streaming now", registry=REGISTRY)
LOOP_LAG = Histogram("moai_event_loop_lag_seconds", "How late the event loop woke a sleeping probe",
                     registry=REGISTRY, buckets=LAG_BUCKETS)
CONFIG_RELOADS = Counter("moai_config_reloads", "Config reloads by result (applied, refused)", ["result"],
                         registry=REGISTRY)
