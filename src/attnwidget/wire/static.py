"""The built front end (``npm run build`` writes ``static/``): the bundles, the CSS and the colour tables."""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def static_file(name: str) -> Path:
    path = STATIC / name
    if not path.is_file():
        raise ImportError(
            f"the attnwidget front end is not built ({path} is missing): run `npm ci && npm run build` "
            "in the repository, or install the package with pip, which builds it"
        )
    return path
