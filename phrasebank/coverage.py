"""Coverage of the phrase bank: phrases per kind for each emotion and situation, and the gaps.

A cell counts the phrases of one kind written for one emotion (or situation).
Phrases that name no emotion fit any message; they are counted once per kind
as "general" rather than in every cell, so a cell says what an admin wrote for
that feeling and matches the phrase list filtered by it. A cell is a gap when
it holds fewer approved phrases than the threshold, because only approved
phrases reach agents; cells the ranking never fills (an apology for a grateful
or neutral message) are marked not applicable instead.
"""

from .vocab import EMOTIONS, KINDS, POSITIVE_OR_CALM_EMOTIONS, SITUATIONS, STATUSES

DEFAULT_THRESHOLD = 2
AXES = {"emotion": ("emotions", EMOTIONS), "situation": ("situations", SITUATIONS)}


def not_applicable(axis, label, kind):
    """Why ranking never suggests ``kind`` for this emotion or situation, or None."""
    if axis == "emotion" and kind == "apology" and label in POSITIVE_OR_CALM_EMOTIONS:
        return "apologies are never suggested for grateful or neutral messages"
    return None


def coverage_grid(phrases, axis, statuses=("approved",), threshold=DEFAULT_THRESHOLD):
    """One grid (``axis`` is "emotion" or "situation") by kind, counting phrases with ``statuses``.

    Returns ``{"axis", "labels", "kinds", "statuses", "threshold", "rows", "general", "gaps"}``
    where each row is ``{"label", "cells": [cell per kind], "total"}`` and a cell is
    ``{"kind", "label", "counts": {status: n}, "count", "approved", "gap", "not_applicable"}``.
    """
    field, labels = AXES[axis]
    counted = _check_statuses(statuses)
    tally = {(label, kind): dict.fromkeys(STATUSES, 0) for label in labels for kind in KINDS}
    general = {kind: dict.fromkeys(STATUSES, 0) for kind in KINDS}
    for phrase in phrases:
        status, kind = phrase.get("status"), phrase.get("kind")
        if status not in STATUSES or kind not in KINDS:
            continue
        named = [label for label in phrase.get(field) or [] if label in labels]
        for label in named:
            tally[(label, kind)][status] += 1
        if not named:
            general[kind][status] += 1
    rows = [_row(axis, label, tally, counted, threshold) for label in labels]
    return {
        "axis": axis,
        "labels": list(labels),
        "kinds": list(KINDS),
        "statuses": list(counted),
        "threshold": threshold,
        "rows": rows,
        "general": {kind: _counts(general[kind], counted) for kind in KINDS},
        "gaps": sum(1 for row in rows for cell in row["cells"] if cell["gap"]),
    }


def coverage(phrases, statuses=("approved",), threshold=DEFAULT_THRESHOLD):
    """Both grids: ``{"emotion": grid, "situation": grid}`` (see ``coverage_grid``)."""
    phrases = list(phrases)
    return {axis: coverage_grid(phrases, axis, statuses, threshold) for axis in AXES}


def _check_statuses(statuses):
    counted = [s for s in STATUSES if s in set(statuses)]
    unknown = set(statuses) - set(STATUSES)
    if unknown or not counted:
        raise ValueError(f"statuses must be some of: {', '.join(STATUSES)}")
    return counted


def _counts(by_status, counted):
    return {"counts": {s: by_status[s] for s in counted}, "count": sum(by_status[s] for s in counted),
            "approved": by_status["approved"]}


def _row(axis, label, tally, counted, threshold):
    cells = []
    for kind in KINDS:
        reason = not_applicable(axis, label, kind)
        cell = {"kind": kind, "label": label, **_counts(tally[(label, kind)], counted), "not_applicable": reason}
        # Only approved phrases reach agents, so drafts never close a gap.
        cell["gap"] = reason is None and cell["approved"] < threshold
        cells.append(cell)
    return {"label": label, "cells": cells, "total": sum(c["count"] for c in cells)}
