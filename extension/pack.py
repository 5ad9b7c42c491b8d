"""Package the extension for the Chrome Web Store: dist/assist-extension.zip.

Only runtime files go in (manifest, scripts, pages, styles, icons), never
this script or the README. The zip is reproducible: sorted entries and a fixed
timestamp, so the same sources give the same bytes. Run from anywhere:

    python extension/pack.py [--out dist/assist-extension.zip]
"""

import argparse
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNTIME_SUFFIXES = {".json", ".js", ".html", ".css", ".png"}
EXCLUDED = {"pack.py", "README.md"}
FIXED_TIME = (2026, 1, 1, 0, 0, 0)


def runtime_files(root=HERE):
    """The files the extension needs at run time, as sorted paths relative to ``root``."""
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.name in EXCLUDED or path.suffix not in RUNTIME_SUFFIXES:
            continue
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        files.append(relative)
    return files


def referenced_files(manifest):
    """Every file the manifest names (service worker, pages, icons)."""
    names = [manifest["background"]["service_worker"], manifest["side_panel"]["default_path"],
             manifest["options_ui"]["page"]]
    names += manifest.get("icons", {}).values()
    names += manifest.get("action", {}).get("default_icon", {}).values()
    return sorted(set(names))


def check(root=HERE):
    """Fail early on a manifest that would not load (Chrome then loads nothing at all)."""
    manifest = json.loads((root / "manifest.json").read_text())
    if manifest.get("manifest_version") != 3:
        raise SystemExit("manifest.json: manifest_version must be 3")
    missing = [name for name in referenced_files(manifest) if not (root / name).is_file()]
    if missing:
        raise SystemExit(f"manifest.json names missing files: {', '.join(missing)}")
    return manifest


def pack(out, root=HERE):
    """Write the zip to ``out``; returns the list of entries."""
    check(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    entries = runtime_files(root)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in entries:
            info = zipfile.ZipInfo(relative.as_posix(), date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (root / relative).read_bytes())
    return [e.as_posix() for e in entries]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "dist" / "assist-extension.zip")
    args = parser.parse_args(argv)
    entries = pack(args.out)
    version = json.loads((HERE / "manifest.json").read_text())["version"]
    print(f"{args.out} (version {version}, {len(entries)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
