"""What the real APIs refuse, refused the same way: the fake server answers a malformed request with the
provider's own 400 body instead of a friendly answer, so a broken request fails a test before it fails users.

The rules follow the published request schemas (OpenAI Chat Completions, Anthropic Messages) for every field
moai sends or could send; unknown top-level fields are refused as both APIs do.
"""

from __future__ import annotations

from typing import Any

OPENAI_ROLES = {"system", "developer", "user", "assistant", "tool"}
OPENAI_FIELDS = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stream",
                 "stream_options", "stop", "n", "presence_penalty", "frequency_penalty", "seed", "user",
                 "reasoning_effort", "reasoning", "response_format", "tools", "tool_choice", "logprobs",
                 "top_logprobs", "logit_bias", "parallel_tool_calls", "metadata", "store", "modalities"}
OPENROUTER_FIELDS = {"plugins"}  # OpenRouter's own extensions; OpenAI itself refuses them
OPENROUTER_PLUGINS = {"web", "file-parser", "response-healing"}
ANTHROPIC_WEB_SEARCH_TOOLS = {"web_search_20250305", "web_search_20260209"}
OPENAI_EFFORTS = {"minimal", "low", "medium", "high"}
ANTHROPIC_FIELDS = {"model", "messages", "max_tokens", "system", "temperature", "top_p", "top_k", "stream",
                    "stop_sequences", "metadata", "thinking", "tools", "tool_choice", "service_tier"}
ANTHROPIC_IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


class Invalid(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


def openai_error(error: Invalid) -> dict[str, Any]:
    return {"error": {"message": str(error), "type": "invalid_request_error", "param": error.param, "code": None}}


def anthropic_error(error: Invalid) -> dict[str, Any]:
    return {"type": "error", "error": {"type": "invalid_request_error", "message": str(error)}}


def _number(body: dict[str, Any], key: str, low: float, high: float) -> None:
    if key in body:
        value = body[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"{key}: Input should be a valid number", key)
        if not low <= value <= high:
            raise Invalid(f"{key}: Input should be between {low:g} and {high:g}, got {value}", key)


def _positive_int(body: dict[str, Any], key: str) -> None:
    if key in body and (isinstance(body[key], bool) or not isinstance(body[key], int) or body[key] < 1):
        raise Invalid(f"{key}: Input should be an integer greater than or equal to 1", key)


def _common(body: Any, allowed: set[str]) -> None:
    if not isinstance(body, dict):
        raise Invalid("The request body is not a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Invalid(f"{unknown[0]}: Extra inputs are not permitted", unknown[0])
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise Invalid("model: Field required", "model")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise Invalid("messages: Field required (a non-empty list)", "messages")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise Invalid("stream: Input should be a valid boolean", "stream")


def validate_openai(body: Any, openrouter: bool = True) -> None:
    """`openrouter`: the server is OpenRouter (its `plugins` accepted); else OpenAI's own refusal of them."""
    _common(body, OPENAI_FIELDS | (OPENROUTER_FIELDS if openrouter else set()))
    plugins = body.get("plugins")
    if plugins is not None:
        if not isinstance(plugins, list) or not all(isinstance(p, dict) for p in plugins):
            raise Invalid("plugins: Expected array of plugin objects", "plugins")
        for index, plugin in enumerate(plugins):
            if plugin.get("id") not in OPENROUTER_PLUGINS:
                raise Invalid(f"plugins[{index}].id: Invalid plugin id", "plugins")
            results = plugin.get("max_results")
            if results is not None and (isinstance(results, bool) or not isinstance(results, int)
                                        or not 1 <= results <= 25):
                raise Invalid(f"plugins[{index}].max_results: Number must be between 1 and 25", "plugins")
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _positive_int(body, "max_tokens")
    _positive_int(body, "max_completion_tokens")
    if "stream_options" in body and not body.get("stream"):
        raise Invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
    if "reasoning_effort" in body and body["reasoning_effort"] not in OPENAI_EFFORTS:
        raise Invalid(f"reasoning_effort: Input should be one of {sorted(OPENAI_EFFORTS)}", "reasoning_effort")
    for index, message in enumerate(body["messages"]):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in OPENAI_ROLES:
            raise Invalid(f"{where}.role: Input should be one of {sorted(OPENAI_ROLES)}", f"{where}.role")
        content = message.get("content")
        if isinstance(content, str):
            continue
        if not isinstance(content, list) or not content:
            raise Invalid(f"{where}.content: Input should be a string or a non-empty array of parts", where)
        for part in content:
            _openai_part(part, f"{where}.content")


def _openai_part(part: Any, where: str) -> None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text" and isinstance(part.get("text"), str):
        return
    if kind == "image_url" and isinstance((part.get("image_url") or {}).get("url"), str):
        url = part["image_url"]["url"]
        if url.startswith(("https://", "http://", "data:image/")):
            return
        raise Invalid(f"{where}: Invalid image URL: expected a URL or a base64 data URL", where)
    if kind == "file" and isinstance(part.get("file"), dict) and isinstance(part["file"].get("file_data"), str):
        return
    raise Invalid(f"{where}: Invalid content part {kind!r}", where)


def validate_anthropic(body: Any) -> None:
    _common(body, ANTHROPIC_FIELDS)
    if "max_tokens" not in body:
        raise Invalid("max_tokens: Field required", "max_tokens")
    _positive_int(body, "max_tokens")
    _number(body, "temperature", 0, 1)
    _number(body, "top_p", 0, 1)
    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, dict) or thinking.get("type") not in ("enabled", "disabled"):
            raise Invalid("thinking.type: Input should be 'enabled' or 'disabled'")
        if thinking["type"] == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or budget < 1024:
                raise Invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
            if budget >= body["max_tokens"]:
                raise Invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
            if "temperature" in body and body["temperature"] != 1:
                raise Invalid("`temperature` may only be set to 1 when thinking is enabled")
    for index, tool in enumerate(body.get("tools") or ()):
        _anthropic_tool(tool, f"tools.{index}")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise Invalid("system: Input should be a valid string or list of text blocks")
    previous = None
    for index, message in enumerate(body["messages"]):
        where = f"messages.{index}"
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            raise Invalid(f"{where}.role: Input should be 'user' or 'assistant'")
        if index == 0 and role != "user":
            raise Invalid("messages: first message must use the \"user\" role")
        if role == previous:
            raise Invalid(f"messages: roles must alternate between \"user\" and \"assistant\", but found multiple "
                          f"\"{role}\" roles in a row")
        previous = role
        _anthropic_content(message.get("content"), f"{where}.content")


def _anthropic_tool(tool: Any, where: str) -> None:
    """A server tool by its versioned type (web search: name "web_search", max_uses ≥ 1), else a custom tool
    with an input schema."""
    if not isinstance(tool, dict):
        raise Invalid(f"{where}: Input should be a valid dictionary")
    kind = tool.get("type")
    if kind in ANTHROPIC_WEB_SEARCH_TOOLS:
        if tool.get("name") != "web_search":
            raise Invalid(f"{where}.name: Input should be 'web_search'")
        uses = tool.get("max_uses")
        if uses is not None and (isinstance(uses, bool) or not isinstance(uses, int) or uses < 1):
            raise Invalid(f"{where}.max_uses: Input should be greater than 0")
        if tool.get("allowed_domains") and tool.get("blocked_domains"):
            raise Invalid(f"{where}: cannot use both allowed_domains and blocked_domains")
        return
    if kind not in (None, "custom") or not isinstance(tool.get("input_schema"), dict):
        raise Invalid(f"{where}: Input tag {kind!r} does not match any of the expected tags")


def _anthropic_content(content: Any, where: str) -> None:
    if isinstance(content, str):
        if not content.strip():
            raise Invalid(f"{where}: text content blocks must contain non-whitespace text")
        return
    if not isinstance(content, list) or not content:
        raise Invalid(f"{where}: Input should be a valid string or a non-empty list of content blocks")
    for index, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        here = f"{where}.{index}"
        if kind == "text":
            if not isinstance(block.get("text"), str) or not block["text"].strip():
                raise Invalid(f"{here}.text: text content blocks must contain non-whitespace text")
        elif kind in ("image", "document"):
            source = block.get("source")
            if not isinstance(source, dict) or source.get("type") not in ("base64", "url", "text"):
                raise Invalid(f"{here}.source: Input should be a valid source")
            if source["type"] == "base64":
                if not isinstance(source.get("data"), str) or not source.get("media_type"):
                    raise Invalid(f"{here}.source: base64 sources need media_type and data")
                if kind == "image" and source["media_type"] not in ANTHROPIC_IMAGE_TYPES:
                    raise Invalid(f"{here}.source.media_type: Input should be one of {sorted(ANTHROPIC_IMAGE_TYPES)}")
                if kind == "document" and source["media_type"] != "application/pdf":
                    raise Invalid(f"{here}.source.media_type: Input should be 'application/pdf'")
        else:
            raise Invalid(f"{here}.type: Input tag {kind!r} does not match any of the expected tags")
