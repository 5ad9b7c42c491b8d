"""Coverage grids over the phrase bank, and the CSV/JSON files the admin app imports and exports."""

import json

import pytest

from phrasebank import EMOTIONS, KINDS, SITUATIONS
from phrasebank.coverage import coverage, coverage_grid, not_applicable
from phrasebank.db import migrate
from phrasebank.defaults import default_phrases
from phrasebank.errors import InvalidPhrase
from phrasebank.io import dump_phrases, parse_phrases
from phrasebank.store import PhraseStore


def phrase(id, kind="empathy", status="approved", emotions=(), situations=()):
    return {"id": id, "text": "I can see why.", "kind": kind, "status": status, "emotions": list(emotions),
            "situations": list(situations)}


def cell(grid, label, kind):
    row = next(r for r in grid["rows"] if r["label"] == label)
    return next(c for c in row["cells"] if c["kind"] == kind)


def test_grid_shape_is_every_label_by_every_kind():
    grids = coverage([])
    assert [r["label"] for r in grids["emotion"]["rows"]] == list(EMOTIONS)
    assert [r["label"] for r in grids["situation"]["rows"]] == list(SITUATIONS)
    for grid in grids.values():
        assert grid["kinds"] == list(KINDS)
        assert all(len(r["cells"]) == len(KINDS) for r in grid["rows"])


def test_counts_only_approved_by_default_and_drafts_on_request():
    bank = [phrase("a", emotions=["angry"]), phrase("b", emotions=["angry", "sad"]),
            phrase("c", status="draft", emotions=["angry"]), phrase("d", status="retired", emotions=["angry"])]
    approved = coverage_grid(bank, "emotion")
    assert cell(approved, "angry", "empathy")["count"] == 2
    assert cell(approved, "sad", "empathy")["count"] == 1
    with_drafts = coverage_grid(bank, "emotion", statuses=("approved", "draft"))
    angry = cell(with_drafts, "angry", "empathy")
    assert angry["count"] == 3 and angry["counts"] == {"draft": 1, "approved": 2} and angry["approved"] == 2


@pytest.mark.parametrize("approved, threshold, gap", [(0, 2, True), (1, 2, True), (2, 2, False), (0, 1, True),
                                                      (1, 1, False), (4, 5, True)])
def test_gap_is_fewer_approved_than_the_threshold(approved, threshold, gap):
    bank = [phrase(f"p{i}", kind="ownership", situations=["bereavement"]) for i in range(approved)]
    assert cell(coverage_grid(bank, "situation", threshold=threshold), "bereavement", "ownership")["gap"] is gap


def test_drafts_never_close_a_gap():
    bank = [phrase(f"d{i}", status="draft", emotions=["anxious"]) for i in range(5)]
    angry = cell(coverage_grid(bank, "emotion", statuses=("approved", "draft")), "anxious", "empathy")
    assert angry["count"] == 5 and angry["gap"] is True


def test_general_phrases_are_counted_once_per_kind_not_in_cells():
    grid = coverage_grid([phrase("g"), phrase("h", kind="gratitude")], "emotion")
    assert grid["general"]["empathy"]["count"] == 1 and grid["general"]["gratitude"]["count"] == 1
    assert all(c["count"] == 0 for r in grid["rows"] for c in r["cells"])


def test_apologies_for_calm_emotions_are_not_applicable_not_gaps():
    grid = coverage_grid([], "emotion")
    for emotion in ("grateful", "neutral"):
        found = cell(grid, emotion, "apology")
        assert found["not_applicable"] and found["gap"] is False
        assert not_applicable("emotion", emotion, "apology")
    assert cell(grid, "angry", "apology")["gap"] is True
    assert grid["gaps"] == len(EMOTIONS) * len(KINDS) - 2


def test_unknown_values_are_ignored_and_unknown_statuses_refused():
    grid = coverage_grid([phrase("x", emotions=["bored"]), phrase("y", kind="joke", emotions=["angry"]),
                          {"id": "z"}], "emotion")
    assert all(c["count"] == 0 for r in grid["rows"] for c in r["cells"])
    with pytest.raises(ValueError):
        coverage_grid([], "emotion", statuses=("published",))


def test_default_bank_has_no_empathy_gap_for_any_emotion():
    grid = coverage(default_phrases())["emotion"]
    assert not [c for r in grid["rows"] for c in r["cells"] if c["kind"] == "empathy" and c["gap"]]


# --- files: the lossless round trip the admin import/export relies on ---------------------------------

TRICKY = [
    'Comma, "double quotes", and \'single\'',
    "Line one\nline two\r\nline three\rend",
    "Unicode: café, 日本語, emoji 🙂, RTL שלום",
    "<script>alert(1)</script> & <b>bold</b>",
    "Pipes | and = formulas =SUM(A1) and trailing backslash \\",
]


@pytest.fixture
def store():
    from sqlite_utils import Database

    return PhraseStore(migrate(Database(memory=True)))


@pytest.fixture
def tricky_store(store):
    rows = [{"id": f"t-{i}", "text": text, "kind": "empathy", "emotions": ["sad", "angry"], "situations":
             ["billing_problem"], "channels": ["email", "chat"], "use_when": f"use, \"when\"\n{i}",
             "fallback": "" if i % 2 else "Plain, fallback", "status": "approved"} for i, text in enumerate(TRICKY)]
    rows.append({"id": "t-empty", "text": "Just text.", "kind": "gratitude"})
    store.apply_import(rows, "ana")
    return store


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_changes_nothing(tricky_store, fmt):
    exported = tricky_store.export()
    parsed = parse_phrases(dump_phrases(exported, fmt), fmt)
    plan = tricky_store.plan_import(parsed)
    assert len(plan["unchanged"]) == len(exported) and not plan["added"] + plan["changed"] + plan["rejected"]
    by_id = {p["id"]: p for p in parsed}
    for original in exported:
        for name in ("text", "use_when", "fallback", "emotions", "situations", "channels", "kind", "status"):
            assert by_id[original["id"]][name] == original[name], (fmt, original["id"], name)


def test_csv_quotes_every_line_break_and_reads_a_bom():
    text = dump_phrases([{"id": "a", "text": "x\ry", "kind": "empathy"}], "csv")
    assert '"x\ry"' in text
    assert parse_phrases("\ufeff" + text, "csv")[0]["text"] == "x\ry"


def test_csv_blank_optional_cells_clear_and_missing_columns_keep(tricky_store):
    cleared = parse_phrases('id,use_when,emotions\nt-0,,\n', "csv")
    assert cleared == [{"id": "t-0", "use_when": "", "emotions": []}]
    plan = tricky_store.plan_import(cleared)
    assert plan["changed"][0]["use_when"] == "" and plan["changed"][0]["emotions"] == []
    assert plan["changed"][0]["text"] == TRICKY[0]  # not in the file: kept


def test_csv_lists_accept_commas_too():
    assert parse_phrases("id,emotions\na,\"sad, angry\"\n", "csv")[0]["emotions"] == ["sad", "angry"]


@pytest.mark.parametrize("text, problem", [
    ("id,txt\na,b\n", "unknown column 'txt'"),
    ("text,kind\nhello,empathy\n", "no 'id' column"),
    ("id,text,text\na,b,c\n", "appears twice"),
    ("id,text\na,b,extra\n", "more cells than columns"),
    ("", "no 'id' column"),
])
def test_csv_header_problems_name_the_file(text, problem):
    with pytest.raises(InvalidPhrase) as e:
        parse_phrases(text, "csv")
    assert problem in e.value.message and e.value.field == "file"


@pytest.mark.parametrize("text", ["{not json", '"a string"', '{"rows": []}'])
def test_json_problems_name_the_file(text):
    with pytest.raises(InvalidPhrase) as e:
        parse_phrases(text, "json")
    assert e.value.field == "file"


def test_json_accepts_a_list_or_an_object_with_phrases():
    rows = [{"id": "a", "text": "Hi"}]
    assert parse_phrases(json.dumps(rows), "json") == rows == parse_phrases(json.dumps({"phrases": rows}), "json")
