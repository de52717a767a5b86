""" "Did you mean": the closest known name to a misspelled one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    options = list(dict.fromkeys(candidates))
    lowered = {option.lower(): option for option in options}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    prefixed = [option for option in options if option.lower().startswith(word.lower())]
    if len(prefixed) == 1 and len(word) >= 3:
        return prefixed[0]
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not matches:
        by_lower = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        return lowered[by_lower[0]] if by_lower else None
    return matches[0]


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    match = closest(word, candidates)
    return f"did you mean `{match}`?" if match else None
