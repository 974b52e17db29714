"""The language model's say on speakers the rules left unnamed (earmark/speakers/naming.py): it
sees the lines around each one's first turns and may only answer with a name the episode gives,
or "unknown" — the schema allows nothing else, so it cannot invent a name."""

from __future__ import annotations

from earmark.ai.llm import Message
from earmark.ai.tasks.common import Context, structured

UNKNOWN = "unknown"


def asker(ctx: Context):
    """A ``naming.Ask`` backed by the context's engine."""

    def ask(labels: list[str], lines: dict[str, list[str]], candidates: list[str]) -> dict[str, str]:
        listing = "\n\n".join(f"{label}:\n" + "\n".join(f"  {line}" for line in lines[label]) for label in labels)
        schema = {
            "type": "object",
            "properties": {
                "speakers": {
                    "type": "array", "minItems": len(labels), "maxItems": len(labels),
                    "items": {"type": "object", "properties": {"name": {"enum": [*candidates, UNKNOWN]}},
                              "required": ["name"], "additionalProperties": False},
                }
            },
            "required": ["speakers"],
            "additionalProperties": False,
        }
        messages = [Message("system", ctx.use("system").text),
                    Message("user", ctx.use("speaker_names").format(title=ctx.title or "untitled",
                                                                    names=", ".join(candidates), speakers=listing))]
        value = structured(ctx, messages, schema, max_tokens=30 + 20 * len(labels), what="speaker names")
        return {label: item["name"] for label, item in zip(labels, value["speakers"]) if item["name"] != UNKNOWN}

    return ask
