"""Who an annotator is: the rule for a name, and the names that are not a person's (the reviewers' `gold` set,
imported `predictions.<model>`)."""

from __future__ import annotations

import re

HTML_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}"
"""An annotator name, as an HTML input's `pattern` attribute (which browsers match against the whole value; the
`-` is escaped, as a class needs under the `v` flag browsers use). NAME is this same pattern."""
NAME = re.compile(HTML_PATTERN)
"""An annotator name (also the file name of its annotations): 1-64 letters, digits, '.', '_' or '-', the first a
letter or digit. Matched against the whole name (`NAME.fullmatch`), as `valid_name` does and browsers do."""
HELP = "letters, digits, '.', '_' or '-', starting with a letter or digit (at most 64)"
"""The rule of NAME in words, for messages ("use HELP")."""
GOLD = "gold"
"""The annotation set a reviewer builds (store.team.review): the agreed version, not a person's."""
PREDICTIONS_PREFIX = "predictions."
"""Annotation sets named predictions.<model> hold imported predictions: shown as suggestions only."""


def valid_name(name: str) -> bool:
    """Whether `name` is an annotator name the workspace accepts: NAME matches the whole of it."""
    return NAME.fullmatch(name) is not None


def predictions(model: str) -> str:
    """The annotator name that holds the predictions imported from `model`."""
    return f"{PREDICTIONS_PREFIX}{model}"


def is_predictions(name: str) -> bool:
    """Whether `name` holds imported predictions (predictions.<model>)."""
    return name.startswith(PREDICTIONS_PREFIX)


def is_human(name: str) -> bool:
    """Whether `name` is a person's annotations: neither imported predictions nor the gold set."""
    return name != GOLD and not is_predictions(name)
