"""What moai stores: guilds, project panels, discussions, their rounds and every message."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from bot.kinds import AuthorKind as AuthorKind

# Re-exported: the migrations import the enums from here.
from bot.kinds import Category as Category
from bot.kinds import DiscussionMode as DiscussionMode
from bot.kinds import DiscussionStatus as DiscussionStatus
from bot.kinds import LimitScope as LimitScope
from bot.kinds import MessageStatus as MessageStatus
from bot.kinds import MinoritySource as MinoritySource
from bot.kinds import PredictionKind as PredictionKind
from bot.kinds import RoundKind as RoundKind
from bot.kinds import RoundStatus as RoundStatus
from bot.kinds import SpendKind as SpendKind


class Guild(Model):
    id = fields.IntField(primary_key=True)
    discord_id = fields.BigIntField(unique=True)
    name = fields.CharField(max_length=100, default="")
    monthly_budget_usd = fields.FloatField(null=True)  # None: the config default applies
    anyone_steers = fields.BooleanField(default=False, db_default=False)  # /stop, /continue, Resume for all
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "guild"


class Project(Model):
    """A named panel of models with a topic and system prompt that discussions run under."""

    id = fields.IntField(primary_key=True)
    guild: fields.ForeignKeyRelation[Guild] = fields.ForeignKeyField(
        "moai.Guild", related_name="projects", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    models: fields.Field[list[str]] = fields.JSONField(default=list)
    topic = fields.TextField(default="")
    system_prompt = fields.TextField(default="")
    default_rounds = fields.IntField(null=True)
    roles: fields.Field[dict[str, str]] = fields.JSONField(default=dict, db_default="{}")  # alias -> role name
    depth = fields.CharField(max_length=8, default="fixed", db_default="fixed")  # fixed | auto
    blind = fields.BooleanField(default=False, db_default=False)  # /open and round 1 of /discuss answer blind
    search = fields.BooleanField(null=True)  # its discussions search the web; None: the config's default
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "project"
        unique_together = (("guild", "name"),)


class Discussion(Model):
    id = fields.IntField(primary_key=True)
    guild: fields.ForeignKeyNullableRelation[Guild] = fields.ForeignKeyField(
        "moai.Guild", related_name="discussions", null=True, on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "moai.Project", related_name="discussions", null=True, on_delete=fields.SET_NULL
    )
    guild_id: int | None
    project_id: int | None
    channel_id = fields.BigIntField(null=True)
    thread_id = fields.BigIntField(null=True, unique=True)
    mode = fields.CharEnumField(DiscussionMode, max_length=16)
    status = fields.CharEnumField(DiscussionStatus, max_length=16, default=DiscussionStatus.RUNNING)
    question = fields.TextField()
    models: fields.Field[list[str]] = fields.JSONField(default=list)
    rounds_planned = fields.IntField(default=1)
    roles: fields.Field[dict[str, str]] = fields.JSONField(default=dict, db_default="{}")  # alias -> role name
    rotate_roles = fields.BooleanField(default=False, db_default=False)  # roles move one seat on every round
    depth = fields.CharField(max_length=8, default="fixed", db_default="fixed")  # fixed | auto
    blind_names: fields.Field[dict[str, str]] = fields.JSONField(default=dict, db_default="{}")  # alias -> "Model A"
    revealed = fields.BooleanField(default=True, db_default=True)  # False while blind names hide the models
    category = fields.CharEnumField(Category, max_length=16, default=Category.OTHER, db_default="other")
    search = fields.BooleanField(default=False, db_default=False)  # its rounds search the web
    created_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "discussion"
        indexes = (("status",), ("guild_id", "revealed"))

    @property
    def masked(self) -> bool:
        """Blind and not revealed yet: no surface may pair a label with a name."""
        return bool(self.blind_names) and not self.revealed


class Round(Model):
    id = fields.IntField(primary_key=True)
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="rounds", on_delete=fields.CASCADE
    )
    discussion_id: int
    number = fields.IntField()
    kind = fields.CharEnumField(RoundKind, max_length=16)
    status = fields.CharEnumField(RoundStatus, max_length=16, default=RoundStatus.RUNNING)
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "round"
        unique_together = (("discussion", "number"),)


class Message(Model):
    id = fields.IntField(primary_key=True)
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="messages", on_delete=fields.CASCADE
    )
    round: fields.ForeignKeyNullableRelation[Round] = fields.ForeignKeyField(
        "moai.Round", related_name="messages", null=True, on_delete=fields.CASCADE
    )
    discussion_id: int
    round_id: int | None
    author_kind = fields.CharEnumField(AuthorKind, max_length=8)
    author_name = fields.CharField(max_length=100, default="")
    author_id = fields.BigIntField(null=True)
    model_alias = fields.CharField(max_length=32, null=True)
    content = fields.TextField(default="")
    status = fields.CharEnumField(MessageStatus, max_length=16, default=MessageStatus.COMPLETE)
    error = fields.CharField(max_length=300, null=True)
    input_tokens = fields.IntField(null=True)
    output_tokens = fields.IntField(null=True)
    latency_ms = fields.IntField(null=True)
    first_token_ms = fields.IntField(null=True)
    discord_message_ids: fields.Field[list[int]] = fields.JSONField(default=list)
    cost_usd = fields.FloatField(null=True)
    # The provider reported no usage (a stopped or broken stream): the tokens are moai's estimate from the text.
    usage_estimated = fields.BooleanField(default=False, db_default=False)
    stop_reason = fields.CharField(max_length=32, null=True)  # as the provider said it (length, max_tokens...)
    reasoning = fields.TextField(default="", db_default="")  # the model's thinking, never part of content
    reasoning_tokens = fields.IntField(null=True)
    # How web search went for this answer, in words ("searched the web 2×", "answered without search: …")
    search_note = fields.CharField(max_length=200, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "message"
        indexes = (("discussion_id", "id"), ("round_id",))


class ChannelDefault(Model):
    """The project a channel's discussions use when none is named."""

    id = fields.IntField(primary_key=True)
    guild: fields.ForeignKeyRelation[Guild] = fields.ForeignKeyField(
        "moai.Guild", related_name="channel_defaults", on_delete=fields.CASCADE
    )
    channel_id = fields.BigIntField(unique=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "moai.Project", related_name="channel_defaults", on_delete=fields.CASCADE
    )

    class Meta:
        table = "channel_default"


class Cooldown(Model):
    """When a user last started model work in a guild. Updated atomically, so it holds across processes.

    No semicolons in model docstrings: they become table comments, and Tortoise splits migration SQL on them.
    """

    id = fields.IntField(primary_key=True)
    guild_id = fields.BigIntField()
    user_id = fields.BigIntField()
    last_at = fields.DatetimeField()

    class Meta:
        table = "cooldown"
        unique_together = (("guild_id", "user_id"),)


class PeerRanking(Model):
    """One model's ranking of the other answers in a peer review (anonymised, shuffled per reviewer)."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "moai.Round", related_name="rankings", on_delete=fields.CASCADE
    )
    reviewer = fields.CharField(max_length=32)
    # model aliases, best first; never the reviewer itself
    ranking: fields.Field[list[str]] = fields.JSONField(default=list)
    shown_order: fields.Field[list[str]] = fields.JSONField(default=list)  # the order the answers were shown in
    error = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "peer_ranking"
        indexes = (("round_id",),)


class BudgetHold(Model):
    """Money set aside for a run in progress, so concurrent runs in any process cannot overspend together.

    Released when the run ends. A crashed process's holds expire.
    """

    id = fields.IntField(primary_key=True)
    guild: fields.ForeignKeyRelation[Guild] = fields.ForeignKeyField(
        "moai.Guild", related_name="budget_holds", on_delete=fields.CASCADE
    )
    amount_usd = fields.FloatField()
    expires_at = fields.DatetimeField()
    owner = fields.CharField(max_length=64, default="", db_default="")  # the process that took it (host:pid:start)
    user_id = fields.BigIntField(null=True)  # the member whose run it is (their monthly limit counts it too)

    class Meta:
        table = "budget_hold"
        indexes = (("guild_id", "user_id"),)


class Spend(Model):
    """One billed model call, append-only: the record budgets and usage read.

    Kept when discussions or members are forgotten (their ids are cleared instead), so deleting content
    never gives money back. discussion_id is a plain id, not a foreign key, for the same reason.
    """

    id = fields.IntField(primary_key=True)
    guild_id = fields.BigIntField(null=True)  # Discord guild id; None for console runs
    user_id = fields.BigIntField(null=True)  # the member who triggered the run; None once forgotten
    discussion_id = fields.IntField(null=True)
    model_alias = fields.CharField(max_length=32)
    model_name = fields.CharField(max_length=100, default="")
    provider = fields.CharField(max_length=32, default="")
    input_tokens = fields.IntField(default=0)
    output_tokens = fields.IntField(default=0)
    reasoning_tokens = fields.IntField(null=True)
    cost_usd = fields.FloatField(default=0.0)
    estimated = fields.BooleanField(default=False, db_default=False)  # tokens estimated: no usage was reported
    kind = fields.CharEnumField(SpendKind, max_length=8, default=SpendKind.TOKENS, db_default="tokens")
    searches = fields.IntField(default=0, db_default=0)  # web searches billed by this row (kind "search")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "spend"
        indexes = (("guild_id", "created_at"), ("discussion_id",), ("guild_id", "user_id", "created_at"))


class MonthlySpend(Model):
    """A guild's spend in one calendar month (UTC), kept up to date with every Spend row.

    Budget admission reads this one row instead of adding up the month.
    """

    id = fields.IntField(primary_key=True)
    guild_id = fields.BigIntField()
    month = fields.CharField(max_length=7)  # YYYY-MM
    total_usd = fields.FloatField(default=0.0)

    class Meta:
        table = "monthly_spend"
        unique_together = (("guild_id", "month"),)


class ProviderLease(Model):
    """A request in flight to a provider, counted against its max_concurrency by every process (PostgreSQL).

    Renewed while the request runs. One past expires_at belongs to a process that died, and is ignored.
    """

    lease = fields.CharField(max_length=32, primary_key=True)
    provider = fields.CharField(max_length=64, db_index=True)
    owner = fields.CharField(max_length=64)  # the process holding it (host:pid:start)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "provider_lease"


class ProviderStart(Model):
    """A request started to a provider, counted against its requests_per_minute by every process (PostgreSQL)."""

    id = fields.BigIntField(primary_key=True)
    provider = fields.CharField(max_length=64)
    started_at = fields.DatetimeField()

    class Meta:
        table = "provider_start"
        indexes = (("provider", "started_at"),)


class StanceRecord(Model):
    """The stance a model ended a debate answer with (position, confidence, whether and why it changed)."""

    id = fields.IntField(primary_key=True)
    message: fields.OneToOneRelation[Message] = fields.OneToOneField(
        "moai.Message", related_name="stance", on_delete=fields.CASCADE
    )
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="stances", on_delete=fields.CASCADE
    )
    round_number = fields.IntField()
    model_alias = fields.CharField(max_length=32)
    role = fields.CharField(max_length=64, default="")
    position = fields.TextField(null=True)  # None: the model gave none (unknown)
    confidence = fields.IntField(null=True)
    changed = fields.BooleanField(null=True)
    reason = fields.TextField(default="")

    class Meta:
        table = "stance"
        indexes = (("discussion_id", "round_number"),)


class ConsensusReport(Model):
    """A structured /consensus: the moderator's sections, and the dissent moai keeps even when it lost."""

    id = fields.IntField(primary_key=True)
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="consensus_reports", on_delete=fields.CASCADE
    )
    moderator = fields.CharField(max_length=32)
    agreement = fields.TextField(default="")
    disagreements = fields.TextField(default="")
    stances: fields.Field[dict[str, str]] = fields.JSONField(default=dict)  # model name -> last stance line
    unique_insights = fields.TextField(default="")
    blind_spots = fields.TextField(default="")
    minority_report = fields.TextField(default="")
    # Whose minority report it is: the moderator's, or moai's own when the moderator wrote none amid dissent.
    minority_source = fields.CharEnumField(MinoritySource, max_length=16, default=MinoritySource.MODERATOR,
                                           db_default="moderator")
    final_answer = fields.TextField(default="")
    # Over searched answers: each claim of the final answer with the numbers of the sources supporting it
    # ([] = unsupported), and those sources as numbered for this consensus.
    claims: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list, db_default="[]")
    claim_sources: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list, db_default="[]")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "consensus_report"
        indexes = (("discussion_id",),)


class VoteRound(Model):
    """The members' vote on a round's answers: open until its time is up, its starter closes it, or the next
    round starts. `answered` is the ballot's order (button i is answered[i]), never shown with names before
    the reveal."""

    id = fields.IntField(primary_key=True)
    round: fields.OneToOneRelation[Round] = fields.OneToOneField(
        "moai.Round", related_name="vote", on_delete=fields.CASCADE
    )
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="votes", on_delete=fields.CASCADE
    )
    guild_id = fields.BigIntField(null=True)
    project_id = fields.IntField(null=True)
    blind = fields.BooleanField(default=False)
    answered: fields.Field[list[str]] = fields.JSONField(default=list)  # model aliases, in ballot order
    labels: fields.Field[list[str]] = fields.JSONField(default=list)  # what members saw: "Model A" or names
    # Each answer's style (length, headers, list items, bold), in ballot order: the ratings weigh it out.
    styles: fields.Field[list[list[float]]] = fields.JSONField(default=list, db_default="[]")
    category = fields.CharEnumField(Category, max_length=16, default=Category.OTHER, db_default="other")
    voided = fields.CharField(max_length=200, default="")  # why it is not rated (a blind model named itself)
    closes_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "vote_round"
        indexes = (("guild_id", "created_at"), ("discussion_id", "closed_at"))


class Vote(Model):
    """One member's choice in one vote (changeable while it is open): a model alias, "tie" or "bad"."""

    id = fields.IntField(primary_key=True)
    vote_round: fields.ForeignKeyRelation[VoteRound] = fields.ForeignKeyField(
        "moai.VoteRound", related_name="votes", on_delete=fields.CASCADE
    )
    user_id = fields.BigIntField(null=True)  # None once the member is forgotten (the vote still counts, once)
    # /forget me while the vote is open: the vote stays bound to the member until the tally (one member, one
    # vote: forgetting must not free them to vote again), then the binding goes.
    forget_on_close = fields.BooleanField(default=False, db_default=False)
    choice = fields.CharField(max_length=32)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "vote"
        unique_together = (("vote_round", "user_id"),)


class AttachmentRecord(Model):
    """A file shared with a turn, kept here (Discord's CDN links expire, so they are not the record).

    `data` is what models are sent (a downscaled image, the PDF, the text); deleted with its message."""

    id = fields.IntField(primary_key=True)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "moai.Message", related_name="attachments", on_delete=fields.CASCADE
    )
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="attachments", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    kind = fields.CharField(max_length=8)  # image | text | pdf
    media_type = fields.CharField(max_length=64)
    data = fields.BinaryField()
    text = fields.TextField(default="")
    width = fields.IntField(default=0)
    height = fields.IntField(default=0)
    pages = fields.IntField(default=0)
    sha256 = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        indexes = (("discussion_id",), ("message_id",))


class SourceRecord(Model):
    """A web source an answer cites, as its provider reported it (numbered in the order they arrived).

    Deleted with its message (/forget); `provider` names who produced it, left out of exports until a blind
    discussion is revealed."""

    id = fields.IntField(primary_key=True)
    message: fields.ForeignKeyRelation[Message] = fields.ForeignKeyField(
        "moai.Message", related_name="sources", on_delete=fields.CASCADE
    )
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="sources", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    url = fields.TextField()
    title = fields.CharField(max_length=300, default="")
    quote = fields.TextField(default="")
    provider = fields.CharField(max_length=32, default="")  # the provider, or moai's backend ("searxng")
    cited = fields.BooleanField(default=True, db_default=True)  # False: given to the model, not cited by it

    class Meta:
        table = "source"
        indexes = (("message_id",), ("discussion_id",))


class Prediction(Model):
    """A question with a known resolution time (/predict), or a debate resolved by /resolve: its outcomes,
    when forecasts close, the reminder (sent exactly once: claimed, then marked) and the truth once known."""

    id = fields.IntField(primary_key=True)
    discussion: fields.ForeignKeyRelation[Discussion] = fields.ForeignKeyField(
        "moai.Discussion", related_name="predictions", on_delete=fields.CASCADE
    )
    discussion_id: int
    guild_id = fields.BigIntField(null=True)  # Discord guild id, for the accuracy boards
    kind = fields.CharEnumField(PredictionKind, max_length=8, default=PredictionKind.QUESTION)
    outcomes: fields.Field[list[str]] = fields.JSONField(default=list)
    resolves_at = fields.DatetimeField(null=True)
    closes_at = fields.DatetimeField(null=True)  # members' forecasts until then
    reminder_owner = fields.CharField(max_length=64, default="")  # the process posting the reminder
    reminder_until = fields.DatetimeField(null=True)  # its claim lapses then (a crashed process)
    reminded_at = fields.DatetimeField(null=True)
    outcome = fields.CharField(max_length=200, null=True)  # what happened; None until resolved
    void = fields.BooleanField(default=False)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "prediction"
        indexes = (("discussion_id",), ("reminded_at", "resolves_at"), ("guild_id", "resolved_at"))


class ForecastRecord(Model):
    """One forecast: a model's (each round, the last one its final) or a member's (one each, changeable
    until forecasts close). `/forget me` clears the member's id and name, the forecast stays in the scores."""

    id = fields.IntField(primary_key=True)
    prediction: fields.ForeignKeyRelation[Prediction] = fields.ForeignKeyField(
        "moai.Prediction", related_name="forecasts", on_delete=fields.CASCADE
    )
    prediction_id: int
    author_kind = fields.CharEnumField(AuthorKind, max_length=8)
    model_alias = fields.CharField(max_length=32, null=True)
    user_id = fields.BigIntField(null=True)
    author_name = fields.CharField(max_length=100, default="")
    probabilities: fields.Field[dict[str, float]] = fields.JSONField(default=dict)
    round_number = fields.IntField(default=0)
    final = fields.BooleanField(default=True)  # the one scored
    normalised = fields.BooleanField(default=False)  # what was written did not add up to 100% and was scaled
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "forecast"
        indexes = (("prediction_id", "final"), ("user_id",))
        unique_together = (("prediction", "user_id"),)  # one forecast per member (models' user_id is NULL)


class MemberLimit(Model):
    """A monthly USD limit on the runs one member starts in a guild: set for the member, for a role, or for
    everyone (the server's default per member). The tightest that applies wins, in the same locked admission as
    the server's budget."""

    id = fields.IntField(primary_key=True)
    guild: fields.ForeignKeyRelation[Guild] = fields.ForeignKeyField(
        "moai.Guild", related_name="member_limits", on_delete=fields.CASCADE
    )
    scope = fields.CharEnumField(LimitScope, max_length=8)
    target_id = fields.BigIntField(default=0)  # the member's or the role's Discord id; 0 for everyone
    amount_usd = fields.FloatField()

    class Meta:
        table = "member_limit"
        unique_together = (("guild", "scope", "target_id"),)


class ModelAccess(Model):
    """A server's (or one project's) rule: this model runs only for members with one of these roles (no rule:
    for everyone). Checked at every admission (commands, buttons, mentions, resumes)."""

    id = fields.IntField(primary_key=True)
    guild: fields.ForeignKeyRelation[Guild] = fields.ForeignKeyField(
        "moai.Guild", related_name="model_access", on_delete=fields.CASCADE
    )
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "moai.Project", related_name="model_access", null=True, on_delete=fields.CASCADE
    )
    project_id: int | None
    model_alias = fields.CharField(max_length=32)
    role_id = fields.BigIntField()

    class Meta:
        table = "model_access"
        unique_together = (("guild", "project", "model_alias", "role_id"),)
