"""A cheap language guess for imported statements that do not say their language.

NaVAB statements are Chinese, English, French or German; a script check plus a count of very
common function words separates these well enough to filter the browser by language, without
pulling a language-identification model into the web process.
"""

from __future__ import annotations

import re
from typing import Final

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[a-zà-ÿß]+")

# Words frequent in one of the languages and rare in the others ("in", "die", "a" are left out:
# they are common words in more than one of them).
_WORD_LISTS: Final = {
    "en": "the and is are of to that this with for be was were not should have has will would "
    "which their they it its on by from",
    "fr": "le la les des est une et du dans pour que qui pas sur au aux avec ce cette il elle "
    "nous sont être ont été leur mais ou où",
    "de": "der das und ist nicht ein eine zu den mit von auf für sich dem des auch es wir sie "
    "werden wird im sind dass oder über",
}
_STOPWORDS: Final = {language: frozenset(words.split()) for language, words in _WORD_LISTS.items()}


def detect_language(text: str) -> str:
    """`zh`, `fr`, `de` or `en` (the default when nothing else is clearly indicated)."""
    cjk = len(_CJK.findall(text))
    # A Chinese name inside English text must not flip it; a Latin acronym in Chinese neither.
    if cjk and cjk * 4 >= len(_LATIN.findall(text)):
        return "zh"
    hits = dict.fromkeys(_STOPWORDS, 0)
    for word in _WORD.findall(text.lower()):
        for language, words in _STOPWORDS.items():
            if word in words:
                hits[language] += 1
    best = max(hits, key=lambda language: hits[language])
    if hits[best] == 0 or hits[best] == hits["en"]:
        return "en"
    return best
