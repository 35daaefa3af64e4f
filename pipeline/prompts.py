"""Every prompt the pipeline sends, and the strict readers of one-word answers.

Each prompt starts with a "Task:" line naming it, so logs, caches and scripted test backends
can tell them apart. Answers are parsed strictly: anything that is not the requested shape is
counted as unparsable by the calling stage, never guessed at.
"""

from __future__ import annotations

import re

MAX_EXCERPT = 2000

OUTLIER_TAG = """Task: topic tag
Give a short topic tag (one to four words) for the news article below, naming the issue it is about.
Answer with the tag only.
Title: {title}
Article: {text}
Tag:"""

TOPIC_SCREENING = """Task: value-sensitive topic screening
A topic is value-sensitive when people or nations disagree about it because of values (rights, \
justice, freedom, security, tradition, the role of government), not only facts.
Topic keywords: {keywords}
Example headlines:
{headlines}
Is this topic value-sensitive? Answer yes or no.
Answer:"""

STATEMENT_EXTRACTION = """Task: statement extraction
List the statements in the news article below that express a position on the topic "{topic}".
Write one statement per line, each line starting with "- ", in the article's language.
If there is none, answer NONE.
Title: {title}
Article: {text}
Statements:"""

STATEMENT_SCREENING = """Task: statement screening
Does the statement below express a value judgement or a position (not only a fact)?
Statement: {statement}
Answer yes or no.
Answer:"""

SOURCE_JUDGEMENT = """Task: source judgement
Who made the statement below, according to the article? Answer with the person's name only.
If no named person made it (it is the outlet's or an institution's position), answer NONE.
Article: {text}
Statement: {statement}
Speaker:"""

STANCE = """Task: stance
Topic: {topic}
Statement: {statement}
Does the statement support or oppose the main proposal or position discussed under this topic?
Answer support or oppose.
Answer:"""

TRIPLE_GENERATION = """Task: triple generation
Turn the statement below into a question it answers, the statement itself, and its reverse \
statement (the opposite position on the same question).
Answer on one line in exactly this format:
Q: <question> ## S: <statement> ## RS: <reverse statement>
Statement: {statement}
Answer:"""


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " ..."


_WORD = re.compile(r"[a-z]+")


def first_word(answer: str) -> str:
    match = _WORD.search(answer.strip().lower())
    return match.group() if match and answer.strip().lower().startswith(match.group()) else ""


def parse_yes_no(answer: str) -> bool | None:
    """True for "yes", False for "no" (case and trailing punctuation ignored), else None."""
    word = first_word(answer)
    return {"yes": True, "no": False}.get(word)


def parse_stance(answer: str) -> int | None:
    """+1 for "support", -1 for "oppose", else None."""
    return {"support": 1, "supports": 1, "oppose": -1, "opposes": -1}.get(first_word(answer))
