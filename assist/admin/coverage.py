"""Admin page: coverage grids (emotion by kind, situation by kind) with gaps, linked to the phrase list."""

from flask import current_app, render_template, request, url_for

from phrasebank.coverage import DEFAULT_THRESHOLD, coverage
from phrasebank.store import PhraseStore

from . import admin
from .session import admin_required

THRESHOLDS = (1, 2, 3, 5)


def _options():
    """Include drafts (``drafts=1``) and the gap threshold from the query string (bad values fall back)."""
    drafts = request.args.get("drafts") == "1"
    try:
        threshold = int(request.args.get("threshold", DEFAULT_THRESHOLD))
    except ValueError:
        threshold = DEFAULT_THRESHOLD
    return drafts, threshold if threshold in THRESHOLDS else DEFAULT_THRESHOLD


def _link_cells(grid):
    """Give each cell the phrase-list URLs of the phrases it counts."""
    for row in grid["rows"]:
        for cell in row["cells"]:
            where = {"kind": cell["kind"], grid["axis"]: cell["label"]}
            cell["href"] = url_for("admin.phrase_list", **where, status="approved")
            cell["draft_href"] = url_for("admin.phrase_list", **where, status="draft")
    return grid


@admin.get("/coverage")
@admin_required
def coverage_page():
    """Both grids, counting approved phrases (and drafts on request), gaps flagged."""
    drafts, threshold = _options()
    phrases = PhraseStore(current_app.extensions["assist"].database.get()).list()
    statuses = ("approved", "draft") if drafts else ("approved",)
    grids = coverage(phrases, statuses=statuses, threshold=threshold)
    return render_template(
        "admin/coverage.html",
        grids=[_link_cells(grids["emotion"]), _link_cells(grids["situation"])],
        drafts=drafts, threshold=threshold, thresholds=THRESHOLDS,
    )
