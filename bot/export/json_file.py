"""The JSON export: every stored field a script may want (blind numbers kept out until the reveal)."""

from __future__ import annotations

import json
from typing import Any

from bot.db.models import Discussion, Message
from bot.export.records import REPORT_FIELDS, Look, extras, sections, when

__all__ = ["to_json"]


async def to_json(discussion: Discussion, look: Look) -> str:
    more = await extras(discussion)

    def message_dict(m: Message) -> dict[str, Any]:
        row = more.stances.get(m.id)
        stance = None if row is None else {"position": row.position, "confidence": row.confidence,
                                           "changed": row.changed, "reason": row.reason, "role": row.role}
        return {"author_kind": m.author_kind.value, "author": m.author_name,
                "model": m.author_name if more.hidden and m.model_alias else m.model_alias,
                "content": m.content, "status": m.status.value, "error": m.error, "created_at": when(m.created_at),
                "input_tokens": m.input_tokens, "output_tokens": m.output_tokens, "latency_ms": m.latency_ms,
                "cost_usd": m.cost_usd, "stop_reason": m.stop_reason, "reasoning": m.reasoning,
                "reasoning_tokens": m.reasoning_tokens, "stance": stance, "search_note": m.search_note or None,
                "sources": [{"number": s.number, "url": s.url, "title": s.title, "quote": s.quote, "cited": s.cited,
                             "provider": None if more.hidden else s.provider} for s in more.sources.get(m.id, [])],
                "attachments": [{"name": f.name, "kind": f.kind, "media_type": f.media_type, "bytes": len(f.data),
                                 "sha256": f.sha256, "width": f.width or None, "height": f.height or None,
                                 "pages": f.pages or None} for f in more.files.get(m.id, [])]}

    data = {
        "question": discussion.question, "mode": discussion.mode.value, "status": discussion.status.value,
        "models": None if more.hidden else discussion.models, "created_at": when(discussion.created_at),
        "blind": bool(discussion.blind_names), "revealed": discussion.revealed,
        "blind_names": None if more.hidden else discussion.blind_names or None,
        "sections": [{"title": s.title, "round": s.round.number if s.round else None,
                      "kind": s.round.kind.value if s.round else None,
                      "status": s.round.status.value if s.round else None,
                      "messages": [message_dict(m) for m in s.messages]} for s in await sections(discussion)],
        "roles": discussion.roles, "rotate_roles": discussion.rotate_roles, "depth": discussion.depth,
        "consensus_reports": [{"moderator": r.moderator, "created_at": when(r.created_at), "stances": r.stances,
                               **{name: getattr(r, name) for name, _ in REPORT_FIELDS},
                               "minority_source": r.minority_source.value, "claims": r.claims,
                               "claim_sources": r.claim_sources} for r in more.reports],
        "votes": more.votes,
        "predictions": more.predictions,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
