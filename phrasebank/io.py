"""Phrase files: read JSON, YAML or CSV; write JSON or CSV, losslessly."""

import csv
import io
import json
import re
from pathlib import Path

import yaml

from .errors import InvalidPhrase
from .phrases import FIELDS

LIST_FIELDS = ("emotions", "situations", "channels")
FORMATS = ("json", "csv", "yaml")
# Columns whose blank CSV cell means an empty value (the others are then left as they are).
CLEARABLE_FIELDS = (*LIST_FIELDS, "use_when", "fallback")


def format_of(path, declared=None):
    """The format of a phrase file, from ``declared`` or its suffix."""
    fmt = declared or Path(path).suffix.lstrip(".").lower().replace("yml", "yaml")
    if fmt not in FORMATS:
        raise InvalidPhrase(f"unknown phrase file format {fmt!r}; use one of {', '.join(FORMATS)}", field="format")
    return fmt


def parse_phrases(text, fmt):
    """Parse phrase rows from ``text`` in ``fmt``; returns a list of dicts."""
    text = text.removeprefix("\ufeff")  # spreadsheets save UTF-8 with a byte-order mark
    try:
        if fmt == "csv":
            return _parse_csv(text)
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, csv.Error) as e:
        raise InvalidPhrase(f"cannot parse {fmt}: {e}", field="file") from e
    if isinstance(data, dict) and "phrases" in data:
        data = data["phrases"]
    if not isinstance(data, list):
        raise InvalidPhrase("expected a list of phrases (or an object with a 'phrases' list)", field="file")
    return data


def _parse_csv(text):
    # newline="" keeps line breaks inside quoted cells exactly as written.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
    unknown = [c for c in columns if c not in FIELDS]
    repeated = [c for c in columns if columns.count(c) > 1]
    if unknown or repeated or "id" not in columns:
        problem = (f"unknown column {unknown[0]!r}" if unknown else
                   f"column {repeated[0]!r} appears twice" if repeated else "no 'id' column")
        raise InvalidPhrase(f"CSV header: {problem}; columns are: {', '.join(FIELDS)}", field="file")
    rows = []
    for row in reader:
        if None in row:
            raise InvalidPhrase(f"CSV line {reader.line_num}: more cells than columns", field="file")
        rows.append(_from_csv_row(row))
    return rows


def _from_csv_row(row):
    # A blank cell in an optional column means "empty"; elsewhere it means "not given".
    # A missing cell (short row) is None: never given.
    clean = {k: v for k, v in row.items() if v is not None and (v != "" or k in CLEARABLE_FIELDS)}
    for name in LIST_FIELDS:
        if clean.get(name) is not None:
            clean[name] = [v.strip() for v in re.split(r"[|,]", clean[name]) if v.strip()]
    clean.pop("version", None)  # the store owns versions
    return clean


def read_phrase_file(path, fmt=None):
    """Read phrase rows from a file."""
    # newline="" keeps a "\r" inside a CSV cell as written (universal newlines would turn it into "\n").
    with open(path, encoding="utf-8", newline="") as file:
        return parse_phrases(file.read(), format_of(path, fmt))


def dump_phrases(rows, fmt):
    """Serialise phrases (every field) as JSON or CSV text."""
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        # CRLF (RFC 4180) so that a lone "\r" inside a cell is quoted too and survives the round trip.
        writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **{k: "|".join(row.get(k) or []) for k in LIST_FIELDS}})
        return out.getvalue()
    raise InvalidPhrase(f"cannot export as {fmt!r}; use json or csv", field="format")
