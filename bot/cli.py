"""`moai run | check | migrate`: one clear line and a non-zero exit for every startup mistake."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.catalogue import catalogue_entry, load_catalogue, with_prices, write_catalogue
from bot.config import CONFIG_ENV, DEFAULT_CONFIG_PATH, AppConfig, ConfigError, load_config, parse_config
from bot.db.setup import DatabaseUnavailable, close_database, open_database
from bot.errors import UserError
from bot.kinds import Category
from bot.llm.errors import ProviderError
from bot.llm.registry import ModelClients
from bot.logs import setup_logging
from bot.onboarding import PRESETS, application_id, chosen_presets, invite_url, pick_panel, render_config
from bot.policy import MAX_ROUNDS, MIN_ROUNDS
from bot.reload import catalogue_file
from bot.secrets import RedactingFilter, Redactor

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it


ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what config.toml accepts as a key variable


def fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"moai: {message}", file=sys.stderr)
    return code


def safe_url(url: str) -> str:
    """A database URL fit to print: the password is masked."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def parse_shards(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("--shard-ids takes numbers like 0,1") from None


def add_logging_options(parser: argparse.ArgumentParser, *, default_level: str) -> None:
    parser.add_argument("--log-level", default=os.environ.get("MOAI_LOG_LEVEL", default_level))
    parser.add_argument("--log-format", choices=["text", "json"], default=os.environ.get("MOAI_LOG_FORMAT", "text"),
                        help="text lines, or one JSON object per line for log collectors")


def start_logging(config: AppConfig, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Logs in the chosen format, every record passed through the secret redactor first."""
    handler = setup_logging(args.log_level, args.log_format)
    handler.addFilter(RedactingFilter(Redactor.from_config(config, environ)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moai", description="Multi-model AI roundtables on Discord.")
    parser.add_argument("--config", help="path to config.toml (default: $MOAI_CONFIG or ./config.toml)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the bot")
    run.add_argument("--shard-ids", type=parse_shards, help="shards this process runs, e.g. 0,1")
    run.add_argument("--shard-count", type=int, help="total shards across all processes")
    add_logging_options(run, default_level="INFO")
    console = commands.add_parser("console", help="run a discussion in the terminal, or continue a stored one")
    console.add_argument("question", nargs="?", help="a new discussion's question")
    console.add_argument("--mode", choices=["open", "discuss"], default="open")
    console.add_argument("--rounds", type=int,
                         help=f"rounds for discuss mode or --continue ({MIN_ROUNDS}-{MAX_ROUNDS}, default from config; "
                              "--continue: what an interrupted run had left, else 1)")
    console.add_argument("--continue", dest="continue_id", type=int, metavar="ID",
                         help="add rounds to stored discussion ID (or resume it)")
    console.add_argument("--consensus", dest="consensus_id", type=int, metavar="ID",
                         help="a moderator's consensus of stored discussion ID")
    console.add_argument("--peer-review", action="store_true",
                         help="with --consensus: the models rank each other first")
    console.add_argument("--models", help="comma-separated model aliases (default: the configured panel)")
    console.add_argument("--attach", action="append", default=[], metavar="PATH",
                         help="a file for the models (image, text or code, PDF); repeatable")
    console.add_argument("--search", action=argparse.BooleanOptionalAction, default=None,
                         help="search the web and cite sources (default: [search] default in config.toml)")
    add_logging_options(console, default_level="WARNING")
    usage = commands.add_parser("usage", help="this month's spend per model, as a table and optionally a chart")
    usage.add_argument("--guild", type=int, help="one server's id (default: everything in the ledger)")
    usage.add_argument("--member", type=int, help="only runs this member (user id) started")
    usage.add_argument("--png", type=Path, help="also write the chart (spend per day per model) to this file")
    board = commands.add_parser("leaderboard", help="the arena's ratings, as a table or as JSON for scripts")
    board.add_argument("--guild", type=int, help="one server's id (default: every server's votes together)")
    board.add_argument("--category", choices=[c.value for c in Category], help="only questions of this kind")
    board.add_argument("--period", choices=["week", "month", "all"], default="all")
    board.add_argument("--raw", action="store_true", help="ratings without style control")
    board.add_argument("--json", action="store_true", help="print JSON: ratings, intervals, votes and ranks")
    init = commands.add_parser("init", help="write config.toml: providers, checked keys, a default panel")
    init.add_argument("--providers", help=f"comma-separated: {', '.join(PRESETS)} (default: those whose key is set)")
    init.add_argument("--key-env", action="append", default=[], metavar="PROVIDER=VARIABLE",
                      help="the environment variable holding a provider's key (default: the usual name)")
    init.add_argument("--base-url", action="append", default=[], metavar="PROVIDER=URL",
                      help="a provider's endpoint (e.g. ollama=http://gpu-box:11434/v1)")
    init.add_argument("--token-env", default="DISCORD_TOKEN", help="the variable holding the Discord bot token")
    init.add_argument("--panel-size", type=int, default=4, choices=range(1, 9), metavar="1-8")
    init.add_argument("--force", action="store_true", help="overwrite an existing config file")
    commands.add_parser("invite", help="print the URL that adds the bot to a server, with the permissions it needs")
    commands.add_parser("check", help="validate config, database, prices and reach every provider")
    commands.add_parser("migrate", help="apply database migrations and exit")
    models = commands.add_parser("models", help="the model catalogue (prices, context, modalities)")
    models.add_argument("action", choices=["sync"], help="sync: fetch providers' model lists into the catalogue")
    for command in commands.choices.values():  # `moai init --config x.toml` works as `moai --config x.toml init`
        command.add_argument("--config", default=argparse.SUPPRESS, help="path to config.toml (as before the command)")
    return parser


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH)


def catalogue_path(config: AppConfig, args: argparse.Namespace) -> Path:
    return catalogue_file(config, config_path(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "init":
        return asyncio.run(init_command(args, os.environ, interactive=sys.stdin.isatty()))
    if args.command == "invite":
        return invite_command(args, os.environ)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        return fail(str(error))
    catalogue = catalogue_path(config, args)
    if args.command == "check":
        return asyncio.run(check(config, os.environ, catalogue))
    if args.command == "models":
        return asyncio.run(sync_models(config, os.environ, catalogue))
    config, unpriced = with_prices(config, catalogue)
    if args.command == "run":
        return run_bot(config, args, os.environ, unpriced)
    if args.command == "console":
        return console_command(config, args, os.environ)
    if args.command == "usage":
        return asyncio.run(usage_command(config, args))
    if args.command == "leaderboard":
        return asyncio.run(leaderboard_command(config, args))
    return asyncio.run(migrate(config))


def console_command(config: AppConfig, args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    chosen = [name for name, given in (("a question", args.question is not None),
                                       ("--continue", args.continue_id is not None),
                                       ("--consensus", args.consensus_id is not None)) if given]
    if len(chosen) != 1:
        return fail("give a question, --continue ID or --consensus ID" + (f" (not {' and '.join(chosen)})"
                                                                           if chosen else ""))
    if args.rounds is not None and not MIN_ROUNDS <= args.rounds <= MAX_ROUNDS:
        return fail(f"--rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS} (got {args.rounds})")
    try:
        header = console_header(config, args)
    except UserError as error:
        return fail(str(error))
    print(header, flush=True)  # before the heavy imports, the database and the first token: who is being asked
    from rich.console import Console

    from bot.console import continue_console, run_console, user_text

    start_logging(config, args, environ)
    try:
        if args.question is None:
            return asyncio.run(continue_console(
                config, args.continue_id or args.consensus_id, args.rounds, environ, Console(),
                consensus=args.consensus_id is not None, peer_review=args.peer_review))
        rounds = 1 if args.mode == "open" else (args.rounds if args.rounds is not None else config.defaults.rounds)
        return asyncio.run(run_console(config, args.question, args.mode, rounds, args.models, environ, Console(),
                                       args.attach, args.search))
    except UserError as error:
        return fail(user_text(error))
    except DatabaseUnavailable as error:
        return fail(f"database {safe_url(config.database.url)}: {error}", EXIT_FAILED)
    except KeyboardInterrupt:
        print("\nStopped: what the models had written is kept, marked as stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # the traceback goes through the redacting log handler, never raw to stderr
        logging.getLogger("moai.console").exception("console run failed")
        return fail(f"internal error ({type(error).__name__}); see the log above", EXIT_FAILED)


def console_header(config: AppConfig, args: argparse.Namespace) -> str:
    """The console's first line: the question and the panel it goes to (or the stored discussion it goes on)."""
    from bot.panel import parse_models

    if args.question is None:
        what = "consensus of" if args.consensus_id is not None else "more of"
        return f"moai · {what} discussion #{args.continue_id or args.consensus_id}"
    chosen = parse_models(config, args.models) if args.models is not None else config.default_models()
    if not chosen:
        raise UserError("--models names no model.")
    rounds = "" if args.mode == "open" else f", {args.rounds or config.defaults.rounds} round(s)"
    if args.search if args.search is not None else config.search.default:
        rounds += ", searching the web"
    question = " ".join(args.question.split())
    return (f"moai · {args.mode}{rounds} · asking {', '.join(m.name for m in chosen)}: "
            f"{question[:200]}{'…' if len(question) > 200 else ''}")


async def migrate(config: AppConfig) -> int:
    problem = await preflight_database(config)
    if problem:
        return fail(problem, EXIT_FAILED)
    print(f"database {safe_url(config.database.url)}: migrations applied")
    return EXIT_OK


def pairs(values: Sequence[str], flag: str) -> dict[str, str]:
    found = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise ValueError(f"{flag} takes PROVIDER=VALUE")  # the value is not echoed: it may be a pasted key
        found[name.strip()] = rest.strip()
    return found


def ask(question: str, default: str) -> str:
    try:
        answer = input(f"{question} [{default}]: ").strip()
    except EOFError:  # input closed: take the default, as an empty answer would
        answer = ""
    return answer or default


async def init_command(args: argparse.Namespace, environ: Mapping[str, str], *, interactive: bool) -> int:
    """Providers and key variables (asked, or from flags), each key checked for free, a panel picked from what
    the providers list, a validated config.toml written; nothing is written if any check fails."""
    target = config_path(args)
    if target.exists() and not args.force:
        return fail(f"{target} already exists; pass --force to overwrite it, or --config to write elsewhere")
    try:
        key_envs, base_urls = pairs(args.key_env, "--key-env"), pairs(args.base_url, "--base-url")
        for flag, given in (("--key-env", key_envs), ("--base-url", base_urls)):
            strangers = sorted(set(given) - set(PRESETS))
            if strangers:
                raise ValueError(f"{flag}: unknown provider {', '.join(repr(s) for s in strangers)} "
                                 f"(known: {', '.join(PRESETS)})")
        for provider, variable in key_envs.items():
            if not ENV_NAME_RE.fullmatch(variable):  # a key pasted where its variable's name belongs: never echo it
                raise ValueError(f"--key-env {provider}=…: give the NAME of the environment variable that holds "
                                 "the key (e.g. OPENROUTER_API_KEY), not the key itself")
        names = [n.strip() for n in (args.providers or "").split(",") if n.strip()]
        if not names:
            detected = [p.name for p in PRESETS.values() if p.key_env and environ.get(key_envs.get(p.name, p.key_env))]
            names = ([n.strip() for n in ask(f"Providers ({', '.join(PRESETS)})", ",".join(detected) or "openrouter")
                      .split(",") if n.strip()] if interactive else detected)
        if not names:
            return fail("no provider key found in the environment (OPENROUTER_API_KEY, OPENAI_API_KEY, "
                        "ANTHROPIC_API_KEY); export one, or pass --providers (ollama needs no key)")
        if interactive:
            for name in names:
                if name in PRESETS and PRESETS[name].key_env and name not in key_envs:
                    key_envs[name] = ask(f"Environment variable holding the {name} key", PRESETS[name].key_env)
        presets = chosen_presets(names, key_envs, base_urls)
    except ValueError as error:
        return fail(str(error))
    missing = [p for p in presets if p.key_env and not environ.get(p.key_env)]
    for preset in missing:
        print(f"FAIL  provider {preset.name}: {preset.key_env} is not set (export it, then run moai init again)")
    if missing:
        return EXIT_FAILED
    try:
        draft = parse_config({"providers": {p.name: {"kind": p.kind, "base_url": p.base_url, "api_key_env": p.key_env}
                                            for p in presets}}, source="moai init")
    except ConfigError as error:
        return fail(str(error))
    catalogue = target.parent / "moai-catalogue.json"
    found, _ = await fetch_catalogue(draft, environ, catalogue)
    listed: dict[str, list[str]] = {}
    for name, result in found.items():
        if isinstance(result, ProviderError):
            print(f"FAIL  provider {name}: {result}")
        else:
            listed[name] = result
            print(f"ok    provider {name}: key accepted, {len(result)} models listed")
    if len(listed) < len(found):
        print("config not written: fix the failing provider (or leave it out with --providers) and run moai init again")
        return EXIT_FAILED
    seats = pick_panel(presets, listed, args.panel_size)
    if not seats:
        return fail("the providers list no models to put on a panel", EXIT_FAILED)
    if len(seats) == 1:
        print(f"warn  panel: only one model ({seats[0].model}); a roundtable needs two or more, and blind rounds "
              "and peer review need several: add a provider, or models under [models.*] later")
    text = render_config(presets, seats, args.token_env)
    try:
        parse_config(tomllib.loads(text), source=str(target))  # never write a file `moai run` would refuse
    except ConfigError as error:
        return fail(f"internal error, the generated config is invalid: {error}", EXIT_FAILED)
    target.write_text(text, "utf-8")
    print(f"ok    panel: {', '.join(f'{s.alias} ({s.model})' for s in seats)}")
    print(f"ok    wrote {target}")
    token = environ.get(args.token_env, "").strip()
    if token:
        try:
            print(f"invite: {invite_url(application_id(token))}")
        except ValueError as error:
            print(f"warn  {args.token_env}: {error}")
    else:
        print(f"next: export {args.token_env}=<bot token>, run `moai invite` for the invite URL, then `moai run`")
    return EXIT_OK


def invite_command(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """The invite URL alone (scripts can use it); the token's variable is read from config if there is one."""
    try:
        token_env = load_config(args.config).discord.token_env
    except ConfigError:
        token_env = "DISCORD_TOKEN"
    token = environ.get(token_env, "").strip()
    if not token:
        return fail(f"{token_env} is not set: the invite URL is built from the bot token's application id")
    try:
        print(invite_url(application_id(token)))
    except ValueError as error:
        return fail(f"{token_env}: {error}")
    return EXIT_OK


async def usage_command(config: AppConfig, args: argparse.Namespace) -> int:
    """The /usage table in the terminal, and its chart as a PNG file with --png."""
    from bot.charts import chart_palette, month_chart
    from bot.services.ledger import usage_report

    problem = await preflight_database(config, keep_open=True)
    if problem:
        return fail(problem, EXIT_FAILED)
    try:
        report = await usage_report(args.guild, args.member)
    finally:
        await close_database()
    scope = f"server {args.guild}" if args.guild else "all servers and console runs"
    print(f"Usage for {scope}{f', member {args.member}' if args.member else ''} since {report.since:%Y-%m-%d}")
    for line in sorted(report.lines.values(), key=lambda item: item.cost, reverse=True):
        print(f"  {line.name:<24} {line.messages:>6} answers {line.input_tokens:>12,} in {line.output_tokens:>12,} out"
              f"  ${line.cost:.4f}" + (f"  {line.searches} searches" if line.searches else ""))
    total = report.total
    print(f"  {'Total':<24} {total.messages:>6} answers {total.input_tokens:>12,} in {total.output_tokens:>12,} out"
          f"  ${total.cost:.4f}" + (f"  {total.searches} searches" if total.searches else ""))
    if args.png:
        try:
            args.png.write_bytes(month_chart(report, f"Spend for {scope}", chart_palette(config)))
        except OSError as error:
            return fail(f"cannot write {args.png}: {error.strerror}", EXIT_FAILED)
        print(f"chart written to {args.png}")
    return EXIT_OK


async def leaderboard_command(config: AppConfig, args: argparse.Namespace) -> int:
    """The /leaderboard table (or its JSON) in the terminal, for one server or all of them."""
    from bot.leaderboard import board_json, board_notes, board_table
    from bot.services.arena import ArenaService, BoardScope

    problem = await preflight_database(config, keep_open=True)
    if problem:
        return fail(problem, EXIT_FAILED)
    scope = BoardScope(period=args.period, category=Category(args.category) if args.category else None,
                       raw=args.raw)
    try:
        board = await ArenaService(config).board(args.guild, scope)
    finally:
        await close_database()
    if args.json:
        print(json.dumps(board_json(board, guild_id=args.guild), indent=2))
        return EXIT_OK
    where = f"server {args.guild}" if args.guild else "all servers"
    print(f"Leaderboard for {where} ({args.category or 'every category'}, {args.period}"
          f"{', raw' if args.raw else ''}): {board.ballots} vote(s)")
    print(board_table(board).strip("`\n"))
    for note in board_notes(board, config.arena.ties):
        print(note)
    return EXIT_OK


async def preflight_database(config: AppConfig, *, keep_open: bool = False) -> str | None:
    """None if the database opens and migrates, else one line saying what is wrong (password masked)."""
    try:
        await open_database(config.database.url)
    except Exception as error:
        await close_database()
        return f"database {safe_url(config.database.url)}: {type(error).__name__}: {error}"
    if not keep_open:
        await close_database()
    return None


def run_bot(config: AppConfig, args: argparse.Namespace, environ: Mapping[str, str], unpriced: Sequence[str]) -> int:
    from tortoise.exceptions import BaseORMException

    # `moai run` launches the Discord front end: the one place the core names it, loaded only for this command.
    from cogs.client import DiscordRefused, StartupFailed, run_bot_until_closed  # noqa: TID251

    token = environ.get(config.discord.token_env, "").strip()
    if not token:
        return fail(f"{config.discord.token_env} is not set: export {config.discord.token_env}=<your bot token> "
                    "(Discord developer portal > your application > Bot > Reset Token)")
    if not config.models:
        return fail("config.toml has no [models.<alias>] section: the bot would have no model to ask")
    start_logging(config, args, environ)
    for name in sorted({m.provider for m in config.models.values()}):
        variable = config.providers[name].api_key_env
        if variable and not environ.get(variable, "").strip():
            users = ", ".join(a for a, m in config.models.items() if m.provider == name)
            logging.getLogger("moai").warning(
                "PROVIDER KEY MISSING: %s is not set, so every answer of %s (provider %s) will fail until it is "
                "exported and the bot restarted", variable, users, name)
    if unpriced:
        logging.getLogger("moai").warning(
            "UNPRICED MODELS: %s have no known price: their spend counts as $0 and, where a server sets a budget, "
            "they are refused (defaults.allow_unpriced = true to allow). Price them in config.toml or run "
            "`moai models sync`.", ", ".join(unpriced))
    shard_kwargs: dict[str, Any] = {}
    if args.shard_ids is not None:
        shard_kwargs = {"shard_ids": args.shard_ids, "shard_count": args.shard_count or len(args.shard_ids)}
    database_problem = asyncio.run(preflight_database(config))  # fail fast, before connecting to Discord
    if database_problem:
        return fail(database_problem, EXIT_FAILED)
    try:
        run_bot_until_closed(config, token, environ, config_path=config_path(args), **shard_kwargs)
    except StartupFailed as failure:
        return fail(str(failure), EXIT_FAILED)
    except BaseORMException as error:
        return fail(f"database {safe_url(config.database.url)}: {type(error).__name__}: {error}", EXIT_FAILED)
    except (aiohttp.ClientError, OSError) as error:
        return fail(f"cannot reach Discord ({type(error).__name__}); check the network and try again", EXIT_FAILED)
    except DiscordRefused as refusal:
        return fail(str(refusal))
    return EXIT_OK


async def fetch_catalogue(config: AppConfig, environ: Mapping[str, str],
                          catalogue: Path) -> tuple[dict[str, list[str] | ProviderError], int]:
    """Every provider's model list; the priced entries (OpenRouter's) go into the catalogue file.

    Returns each provider's model ids (or its error) and how many priced models were stored."""
    found: dict[str, list[str] | ProviderError] = {}
    priced: dict[str, dict[str, dict[str, object]]] = {}
    async with aiohttp.ClientSession() as session:
        clients = ModelClients(config, session, environ=environ, redact=Redactor.from_config(config, environ))
        results = await asyncio.gather(*(c.model_entries() for c in clients.providers.values()),
                                       return_exceptions=True)
    for name, result in zip(clients.providers, results, strict=True):
        if isinstance(result, ProviderError):
            found[name] = result
            continue
        if isinstance(result, BaseException):
            raise result
        found[name] = [str(e.get("id") or e.get("name")) for e in result]
        entries = {str(e.get("id")): stored for e in result if (stored := catalogue_entry(e)) is not None}
        if entries:
            priced[name] = entries
    if priced:
        previous = load_catalogue(catalogue)
        write_catalogue(catalogue, {**previous, **priced})
    return found, sum(len(entries) for entries in priced.values())


async def sync_models(config: AppConfig, environ: Mapping[str, str], catalogue: Path) -> int:
    found, stored = await fetch_catalogue(config, environ, catalogue)
    for name, result in found.items():
        print(f"FAIL  provider {name}: {result}" if isinstance(result, ProviderError)
              else f"ok    provider {name}: {len(result)} models listed")
    print(f"ok    catalogue: {stored} priced models written to {catalogue}" if stored
          else "warn  catalogue: no provider lists prices (OpenRouter does); shipped and config prices apply")
    _, unpriced = with_prices(config, catalogue)
    print_prices(config, catalogue, unpriced)
    return EXIT_FAILED if any(isinstance(r, ProviderError) for r in found.values()) else EXIT_OK


def print_prices(config: AppConfig, catalogue: Path, unpriced: Sequence[str]) -> None:
    priced, _ = with_prices(config, catalogue)
    for alias, model in priced.models.items():
        if alias in unpriced:
            print(f"WARN  model {alias}: NO KNOWN PRICE for '{model.model}': counted as $0 and refused where a "
                  "server has a budget; set input_price/output_price or run `moai models sync`")
        else:
            print(f"ok    model {alias}: ${model.input_price:g} in / ${model.output_price:g} out per million tokens "
                  f"({model.price_source})")


async def ping_redis(url: str) -> str | None:
    import redis.asyncio as redis

    client: Any = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as error:
        return f"{safe_url(url)}: {type(error).__name__}"
    finally:
        await client.aclose()
    return None


async def check(config: AppConfig, environ: Mapping[str, str], catalogue: Path) -> int:
    """Print one line per part; exit 1 if any part is broken."""
    ok = bool(config.models)
    if config.models:
        print(f"ok    config: {len(config.providers)} providers, {len(config.models)} models")
    else:
        print(f"FAIL  config: {len(config.providers)} providers and no models: add a [models.<alias>] section")
    problem = await preflight_database(config)
    if problem:
        ok = False
        print(f"FAIL  {problem}")
    else:
        print(f"ok    database: {safe_url(config.database.url)} (migrations applied)")
    if config.redis.url:
        redis_problem = await ping_redis(config.redis.url)
        ok = ok and redis_problem is None
        print(f"FAIL  redis: {redis_problem}" if redis_problem else "ok    redis: reachable (provider limits shared)")
    if not environ.get(config.discord.token_env):
        print(f"warn  discord: {config.discord.token_env} is not set (needed by `moai run`)")
    found, _ = await fetch_catalogue(config, environ, catalogue)
    used = {m.provider for m in config.models.values()}
    for name, result in found.items():
        if isinstance(result, ProviderError):
            if name not in used:  # shipped for later (Ollama): its absence breaks nothing
                print(f"note  provider {name}: no model uses it, so it is not needed ({result.reason})")
                continue
            ok = False
            print(f"FAIL  provider {name}: {result}")
            continue
        client_url = safe_url(config.providers[name].base_url)
        print(f"ok    provider {name}: reachable at {client_url} ({len(result)} models listed)")
        missing = [m.alias for m in config.models.values() if m.provider == name and result and m.model not in result]
        for alias in missing:
            print(f"warn  model {alias}: '{config.models[alias].model}' is not in {name}'s model list")
    ok = await check_search(config, environ) and ok
    _, unpriced = with_prices(config, catalogue)
    print_prices(config, catalogue, unpriced)
    return EXIT_OK if ok else EXIT_FAILED


async def check_search(config: AppConfig, environ: Mapping[str, str]) -> bool:
    """The search backend: SearXNG is asked one real query (free); a paid API only has its key looked for,
    since a check must not cost a search."""
    import aiohttp

    from bot.search.backends import BACKEND_NAMES, SearchFailed, backend_for

    search = config.search
    if not search.backend:
        return True
    label = BACKEND_NAMES[search.backend]
    if search.backend != "searxng":
        if environ.get(search.api_key_env):
            print(f"ok    search: {label} (key in {search.api_key_env}; not queried: a query is billed)")
            return True
        print(f"FAIL  search: {label} needs its key in {search.api_key_env}")
        return False
    async with aiohttp.ClientSession() as session:
        backend = backend_for(search, session, environ)
        assert backend is not None
        try:
            found = await backend.search("moai check", search.max_results)
        except SearchFailed as failure:
            print(f"FAIL  search: {failure} (models it serves answer without search)")
            return False
    print(f"ok    search: {label} at {safe_url(search.url)} ({len(found)} results for a test query)")
    return True


if __name__ == "__main__":
    sys.exit(main())
