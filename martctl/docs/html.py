"""Small HTML helpers shared by the pages: escaping, the page frame, badges, links."""

from __future__ import annotations

from html import escape
from typing import Iterable


def e(value) -> str:
    return escape("" if value is None else str(value))


def page(title: str, body: str, root: str, project: str) -> str:
    """A whole page: skip link, header with the project name, main landmark; assets under `root`."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · {e(project)}</title>
<link rel="stylesheet" href="{root}assets/site.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a href="{root}index.html" class="brand">{e(project)}</a> <span class="sub">data marts catalog</span></header>
<main id="main" tabindex="-1">
{body}
</main>
<script src="{root}assets/site.js"></script>
</body>
</html>
"""


def badge(status: str | None, label: str | None = None) -> str:
    word = status or "not run"
    return f'<span class="badge s-{e(word.lower().replace(" ", "-"))}">{e(label or word)}</span>'


def link(href: str, text: str) -> str:
    return f'<a href="{e(href)}">{e(text)}</a>'


def join(items: Iterable[str], empty: str = '<span class="none">none</span>') -> str:
    items = list(items)
    return ", ".join(items) if items else empty


def seconds(value) -> str:
    return "" if value is None else f"{float(value):.2f} s"


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list of (term, html) pairs, skipping empty ones."""
    rows = "".join(f"<dt>{e(term)}</dt><dd>{value}</dd>" for term, value in pairs if value)
    return f'<dl class="facts">{rows}</dl>'
