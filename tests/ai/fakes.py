"""Helpers for understanding tests: a scripted transcript whose facts and topic changes are
known, and a schema-aware answerer for the fake LLM that gives valid answers to every task."""

from __future__ import annotations

import json
import re

from earmark.ai.llm import Message
from earmark.models import Segment, Transcript

_TS = re.compile(r"^\[(?:(\d+):)?(\d{2}):(\d{2})\]", re.M)
_BULLET = re.compile(r"^- (?:(?:Speaker \d+|[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?): )?(.*)$", re.M)
_CARD_LINE = re.compile(r"^S\d+ \[[\d:]+\](?: [^:\n]+:)? (.*)$", re.M)
_NUMBERED = re.compile(r"^\[(\d+)\] (?:\(\d+:\d+\) )?(?:[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?: )?(.*)$", re.M)


def line_starts(messages: list[Message]) -> list[float]:
    text = "\n".join(m.content for m in messages)
    return [int(h or 0) * 3600 + int(m) * 60 + int(s) for h, m, s in _TS.findall(text)]


def numbered_lines(messages: list[Message]) -> dict[int, str]:
    """The "[n] Speaker: text" lines the tasks show, by number (the last message that has any)."""
    for m in reversed(messages):
        found = {int(n): text for n, text in _NUMBERED.findall(m.content)}
        if found:
            return found
    return {}


def valid_answer(messages: list[Message], schema: dict | None) -> str:
    """A valid, extractive answer for whichever task's schema this is: it points at the first
    numbered sentences shown and copies their words, so every check the tasks make passes."""
    props = (schema or {}).get("properties", {})
    lines = numbered_lines(messages)
    first = lambda k: " ".join(lines.get(k, "Topic words").split()[:k + 3]).rstrip(".,?!")  # noqa: E731
    if "advert" in props:  # reading a section
        count = props["best"]["maximum"]
        return json.dumps({"title": first(1), "advert": False, "key": list(range(1, min(3, count) + 1)),
                           "best": min(2, count)})
    if "new_topic" in props:
        return json.dumps({"new_topic": True})
    if "paragraph" in props:  # a summary paragraph: the bullet sentences it was given, joined
        bullets = _BULLET.findall("\n".join(m.content for m in messages))
        return json.dumps({"paragraph": " ".join(bullets) or "A paragraph."})
    if "quote" in props:  # a snip card: its first shown sentence, quoted and restated
        said = _CARD_LINE.findall(messages[-1].content) or ["A moment worth keeping."]
        card = {"title": " ".join(said[0].split()[:6]).rstrip(".,?!"), "takeaways": [said[0]],
                "quote": said[0], "speaker": None}
        if "start" in props:
            card = {"start": props["start"]["enum"][0], **card}
        return json.dumps(card)
    if "takeaways" in props:  # one per numbered sentence, restated as itself
        count = props["takeaways"]["minItems"]
        return json.dumps({"takeaways": [lines.get(k, "A takeaway.") for k in range(1, count + 1)]})
    if "why" in props:  # a highlight's title and line
        return json.dumps({"title": first(1), "why": lines.get(1, "It matters.")})
    if "evidence" in props:  # ask: the shown sentence sharing most words with the question
        enum = props["evidence"]["items"].get("enum") or []
        asked = re.search(r"^Question: (.*)$", "\n".join(m.content for m in messages), re.M)
        words = set(re.findall(r"\w{4,}", asked.group(1).lower())) if asked else set()
        best = max(enum, key=lambda n: len(words & set(re.findall(r"\w{4,}", lines.get(n, "").lower()))), default=None)
        return json.dumps({"answerable": best is not None, "evidence": [best] if best is not None else [],
                           "answer": lines.get(best, "An answer.") if best is not None else "The episode doesn't say."})
    if "answers" in props:  # does the cited sentence answer the question?
        return json.dumps({"answers": True})
    if "speakers" in props:
        return json.dumps({"speakers": [{"name": "unknown"}] * props["speakers"]["minItems"]})
    if "sections" in props:
        count = props["sections"]["minItems"]
        return json.dumps({"sections": [{"title": f"Topic {n + 1}", "new_topic": True} for n in range(count)]})
    return "{}"


# A ~5-minute scripted conversation: four topics, three changes at known times.
TOPICS = [
    # (topic start, lines) — each line lasts 6 s
    ("bees", [
        "Welcome to Field Notes, I'm Maria Lopez and today my guest is the beekeeper Tom Hardy.",
        "Tom keeps forty two hives of honey bees on a hill outside Bristol.",
        "Each of his hives holds about sixty thousand bees in the middle of summer.",
        "Tom says the queen bee lays up to two thousand eggs a day in June.",
        "The bees fly up to five kilometres from the hive to find flowers.",
        "Last year his hives made nine hundred kilograms of honey.",
        "He sells the honey at the Saturday market in Bristol for eight pounds a jar.",
        "The hardest part of beekeeping, Tom says, is the varroa mite.",
        "He checks every hive for mites once a week from April to September.",
        "The bees swarm when the hive gets crowded and the old queen leaves with half the bees.",
        "Tom catches swarms with a cardboard box and a bedsheet.",
        "So bees are calm if you move slowly around the hive.",
    ]),
    ("bread", [
        "Now let's change the subject completely and talk about baking sourdough bread.",
        "Maria bakes sourdough every Sunday with a starter she calls Gerald.",
        "Gerald the starter is eleven years old and lives in her fridge.",
        "She feeds the starter equal weights of rye flour and water.",
        "The dough rises for fourteen hours at room temperature overnight.",
        "She bakes the loaf in a cast iron pot at two hundred and fifty degrees.",
        "The crust cracks and sings as the bread cools on the rack.",
        "Maria says the secret of an open crumb is a wet dough with high hydration.",
        "She uses seventy five percent hydration for her everyday loaf.",
        "A loaf of sourdough flour, water and salt costs her about one pound to bake.",
        "Her kneading is just four sets of stretch and folds in the first two hours.",
        "So sourdough rewards patience more than effort.",
    ]),
    ("bikes", [
        "Switching topics again, Tom rides a bicycle to work across the city of Bristol.",
        "His commute on the bike is twelve kilometres each way along the river path.",
        "He rides a steel touring bicycle built in nineteen ninety four.",
        "The bike has a dynamo light, mudguards and a rack for panniers.",
        "Tom fixes punctures himself and carries a spare inner tube and pump.",
        "He replaces the chain every five thousand kilometres.",
        "In winter he fits studded tyres to ride on ice.",
        "Cycling saves him about one thousand pounds a year in bus fares.",
        "He rides in the rain with a waterproof cape his grandfather owned.",
        "The bicycle lane along the river was opened in twenty nineteen.",
        "Tom counts the herons he passes on the ride, seven on a good day.",
        "So cycling is his favourite part of the day.",
    ]),
    ("chess", [
        "Finally, a new topic: the chess club that meets at the Bristol library.",
        "The chess club meets every Thursday evening at seven o'clock.",
        "Maria is the club's treasurer and Tom is its weakest player, he says.",
        "The club has thirty members, the youngest is nine and the oldest is ninety one.",
        "They play with clocks, fifteen minutes per player for each game.",
        "Last spring the club won the regional league for the first time.",
        "The strongest player is a retired postman named Arthur Pike.",
        "Arthur's favourite opening is the Sicilian defence.",
        "New players get a free lesson on the endgame with king and pawn.",
        "The club's chess sets were donated by the library in two thousand and five.",
        "Thanks for listening to Field Notes, and see you next week.",
        "So that's the chess club, and that's our show.",
    ]),
]
LINE_SECONDS = 6.0
TOPIC_CHANGES = [len(TOPICS[0][1]) * LINE_SECONDS * k for k in range(1, len(TOPICS))]  # 72, 144, 216


def scripted_transcript() -> Transcript:
    segments = []
    t = 0.0
    for n, (_topic, lines) in enumerate(TOPICS):
        for line in lines:
            speaker = "Maria" if len(segments) % 2 == 0 else "Tom"
            segments.append(Segment(t, t + LINE_SECONDS - 0.3, line, speaker))
            t += LINE_SECONDS
    return Transcript(segments, source="publisher", format="text", language="en")
