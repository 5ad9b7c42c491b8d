"""Phrase files: read JSON, YAML or CSV; write JSON or CSV, losslessly."""

import csv
import io
import json
from pathlib import Path

import yaml

from .errors import InvalidPhrase
from .phrases import FIELDS

LIST_FIELDS = ("emotions", "situations", "channels")
FORMATS = ("json", "csv", "yaml")


def format_of(path, declared=None):
    """The format of a phrase file, from ``declared`` or its suffix."""
    fmt = declared or Path(path).suffix.lstrip(".").lower().replace("yml", "yaml")
    if fmt not in FORMATS:
        raise InvalidPhrase(f"unknown phrase file format {fmt!r}; use one of {', '.join(FORMATS)}", field="format")
    return fmt


def parse_phrases(text, fmt):
    """Parse phrase rows from ``text`` in ``fmt``; returns a list of dicts."""
    try:
        if fmt == "csv":
            return [_from_csv_row(r) for r in csv.DictReader(io.StringIO(text))]
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, csv.Error) as e:
        raise InvalidPhrase(f"cannot parse {fmt}: {e}", field="file") from e
    if isinstance(data, dict) and "phrases" in data:
        data = data["phrases"]
    if not isinstance(data, list):
        raise InvalidPhrase("expected a list of phrases (or an object with a 'phrases' list)", field="file")
    return data


def _from_csv_row(row):
    clean = {k: v for k, v in row.items() if k is not None and v not in (None, "")}
    for name in LIST_FIELDS:
        if name in clean:
            clean[name] = [v.strip() for v in clean[name].split("|") if v.strip()]
    if "version" in clean:
        clean.pop("version")  # the store owns versions
    return clean


def read_phrase_file(path, fmt=None):
    """Read phrase rows from a file."""
    return parse_phrases(Path(path).read_text(encoding="utf-8"), format_of(path, fmt))


def dump_phrases(rows, fmt):
    """Serialise phrases (every field) as JSON or CSV text."""
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **{k: "|".join(row.get(k) or []) for k in LIST_FIELDS}})
        return out.getvalue()
    raise InvalidPhrase(f"cannot export as {fmt!r}; use json or csv", field="format")
