"""The page's colours, read from the data the front-end build writes (``static/colormaps.json``).

``js/shared/colors.ts`` is the one definition: the build samples its weight colormaps
(Blues on light themes, Inferno on dark ones) at 256 levels and its head palette for
1 to 128 heads, so figures drawn in Python use exactly the page's colours.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ..wire.static import static_file

THEMES = ("light", "dark")


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(static_file("colormaps.json").read_text(encoding="utf-8"))
    return data


def weight_colors(theme: str = "light") -> list[str]:
    """256 ``#rrggbb`` colours for weights 0 to 1 (of the largest shown), as the page paints them."""
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {THEMES}, got {theme!r}")
    return list(_data()["weights"][theme])


def head_colors(n_heads: int) -> list[str]:
    """One colour per head, as the page's head chips and lines use them.

    Past the largest exported palette (128 heads) colours repeat that palette's.
    """
    if n_heads < 1:
        raise ValueError(f"n_heads must be at least 1, got {n_heads}")
    palettes = _data()["heads"]
    if str(n_heads) in palettes:
        return list(palettes[str(n_heads)])
    largest = palettes[str(max(int(count) for count in palettes))]
    return [largest[head % len(largest)] for head in range(n_heads)]


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    value = int(color.lstrip("#"), 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255
