"""Admin page: feedback analytics per period and per phrase, with charts and table fallbacks."""

from datetime import datetime, timedelta, timezone

from flask import current_app, render_template, request, url_for

from . import admin
from .session import admin_required

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
BUCKETS = ("day", "week")
SORTS = ("shown", "acceptance")
CHART_PHRASES = 15  # bars in the acceptance chart: the most shown phrases
TABLE_PHRASES = 500


def _today():
    return datetime.now(timezone.utc).date()


def _query():
    """Period, bucket and sort from the query string; unknown values fall back to the defaults."""
    args = request.args
    period = args.get("period", str(DEFAULT_PERIOD))
    if period != "custom":
        days = int(period) if period.isdigit() and int(period) in PERIODS else DEFAULT_PERIOD
        period, until = str(days), _today()
        since = until - timedelta(days=days - 1)
    else:
        since, until = args.get("since", "").strip(), args.get("until", "").strip()
    return {
        "period": period, "since": str(since), "until": str(until),
        "bucket": args.get("bucket") if args.get("bucket") in BUCKETS else "day",
        "sort": args.get("sort") if args.get("sort") in SORTS else "shown",
    }


def _report(db, query):
    """The analytics for the query, or for the last 30 days with an error message if the query is invalid."""
    from phrasebank.feedback import InvalidFeedback, analytics  # owned by the feedback module; imported on use

    try:
        return analytics(db, query["since"], query["until"], query["bucket"]), None
    except InvalidFeedback as e:
        fallback = analytics(db, None, None, query["bucket"])
        query.update(period="custom", since=fallback["since"], until=fallback["until"])
        return fallback, f"{e.message} Showing the last {DEFAULT_PERIOD} days instead."


def phrase_url(phrase_id):
    """The admin page of one phrase."""
    return url_for("admin.phrase_edit", phrase_id=phrase_id)


def _sorted(rows, sort):
    if sort == "acceptance":
        # Never-shown phrases have no acceptance: list them last.
        return sorted(rows, key=lambda r: (r["acceptance"] is None, -(r["acceptance"] or 0), -r["shown"], r["id"]))
    return sorted(rows, key=lambda r: (-r["shown"], r["id"]))


def _sort_urls(query):
    """This page sorted by each column, keeping the period and bucket."""
    keep = {"period": query["period"], "bucket": query["bucket"]}
    if query["period"] == "custom":
        keep.update(since=query["since"], until=query["until"])
    return {sort: url_for("admin.analytics_page", **keep, sort=sort) for sort in SORTS}


def _chart_data(report):
    """What charts.js draws: the series and the acceptance of the most shown phrases."""
    shown = [p for p in report["phrases"] if p["shown"] and p["acceptance"] is not None][:CHART_PHRASES]
    return {
        "bucket": report["bucket"],
        "series": report["series"],
        "phrases": [{"id": p["id"], "text": p["text"] or p["id"], "shown": p["shown"],
                     "acceptance": p["acceptance"], "url": phrase_url(p["id"])} for p in shown],
    }


@admin.get("/analytics")
@admin_required
def analytics_page():
    """Totals, a time series and per-phrase acceptance for a period; never-used phrases."""
    query = _query()
    report, error = _report(current_app.extensions["assist"].database.get(), query)
    for row in (*report["phrases"], *report["never_used"]):
        row["url"] = phrase_url(row["id"])
    rows = _sorted(report["phrases"], query["sort"])
    return render_template(
        "admin/analytics.html", report=report, query=query, error=error, rows=rows[:TABLE_PHRASES],
        hidden_rows=max(0, len(rows) - TABLE_PHRASES), chart=_chart_data(report), periods=PERIODS,
        buckets=BUCKETS, sort_urls=_sort_urls(query),
    )
