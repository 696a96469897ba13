"""One self-contained HTML file with every layer of every stack: the offline way to share a view.

The file holds the bundled front end (``static/standalone.js``, which renders the
same panels as the widget through a small model with no kernel behind it), the
widget's CSS, and the state: a JSON script with the view traits and the
``_data`` payload, in which every binary array is a ``{"$buffer": [offset, length]}``
reference into one base64 blob. The blob is gzip-compressed when that makes it
smaller, and the page inflates it with the browser's ``DecompressionStream``.

Nothing in the file is fetched: a Content-Security-Policy forbids every request,
so it opens from ``file://`` with the network off. Text from users (tokens,
sentences, the model's name) only ever reaches the page as JSON string values,
with ``<``, ``>`` and ``&`` escaped, so no token can close the script it sits in.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..analysis.heads import head_stats_columns, layer_summary
from ..analysis.shown import shown_extraction
from ..core.budget import DEFAULT_MAX_ATTENTION_BYTES
from ..core.stack import Extraction
from ..sources.tensors import extraction_from_tensors
from ..wire.analysis import head_stats_payload
from ..wire.payload import EncodedExtraction
from ..wire.static import static_file
from ..wire.view_state import (
    SAVED_VIEW,
    VALUE_SETTINGS,
    VIEW_NAMES,
    ViewContext,
    check_value_setting,
    check_view_value,
    stack_shapes,
)
from .view import SavedView, view_of

THEMES = ("auto", "light", "dark")
COMPRESSION_PAYS = 0.9
"""Compress the blob only when gzip saves at least 10% (8-bit codes of long inputs save 50-70%)."""

CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; connect-src data: blob:"


def standalone_html(
    extraction: Extraction,
    view: Mapping[str, Any] | None = None,
    *,
    sentence: str = "",
    theme: str = "auto",
    title: str | None = None,
    prettify_tokens: bool = True,
    analysis: Mapping[str, Any] | None = None,
) -> str:
    """The whole file as text, for ``extraction`` shown as ``view`` (layer, heads, focus, ...).

    ``view`` may ask for rollout and/or words (``combine``, ``granularity``): the file then holds
    those values, fixed (nobody behind the file could recompute them). ``analysis`` holds the
    traits of the analysis panels (``_head_stats``, ``_compare``, ``compare_to``) a widget has.
    """
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {THEMES}, got {theme!r}")
    view = {**SAVED_VIEW, **(view or {})}
    unknown = sorted(set(view) - set(SAVED_VIEW))
    if unknown:
        raise ValueError(f"unknown view settings {unknown}; use some of {list(SAVED_VIEW)}")
    if view["stack"] not in extraction.stacks:
        view["stack"] = next(iter(extraction.stacks))
    if not view["heads"]:
        view["heads"] = list(range(extraction.stacks[view["stack"]].n_heads))

    shown = shown_extraction(extraction, view["combine"], view["granularity"])
    payload = EncodedExtraction(shown, version=1, prettify_tokens=prettify_tokens).payload(None)  # every layer of every stack
    payload.update(combine=view["combine"], granularity=view["granularity"])  # for the captions, as the widget's _data
    embedded, blob = _split_buffers({"_data": payload, **(analysis or {})})
    compressed = gzip.compress(blob, compresslevel=6, mtime=0)
    use_gzip = len(compressed) < COMPRESSION_PAYS * len(blob)
    traits = {
        **view,
        "sentence": sentence,
        "sentence_b": "",
        "target": "",
        "model": extraction.model_name,
        "models": [],
        "has_model": False,  # no kernel: no sentence box, no model selector
        "busy": False,
        "error": "",
        "notes": list(extraction.notes),
        "shapes": dict(extraction.shapes),
        "theme": theme,
        "compare_to": "",
        "_static": True,  # the analysis toggles are fixed: no kernel to recompute rollout or words
        **embedded,
    }
    state = {"traits": traits, "compression": "gzip" if use_gzip else "none"}
    encoded_blob = base64.b64encode(compressed if use_gzip else blob).decode("ascii")
    page_title = title if title is not None else _default_title(extraction, sentence)
    return _TEMPLATE.format(
        csp=CSP,
        title=html.escape(page_title),
        css=static_file("widget.css").read_text(encoding="utf-8").replace("</style", "<\\/style"),
        state=script_json(state),
        blob=encoded_blob,
        script=_script_text(static_file("standalone.js").read_text(encoding="utf-8")),
    )


def html_of(source: Any, tokens: list[str] | None = None, *, theme: str | None = None, **options: Any) -> str:
    """The standalone file for a widget (its current view), or for an attention array and its tokens.

    ``options`` for an array are those of ``AttentionWidget.from_attentions`` (``col_tokens``,
    ``sentence_b_start``, ``layer``, ``heads``, ``max_attention_bytes``); a widget takes none, its view is used.
    """
    saved = view_of(source)
    if saved is not None:
        if tokens is not None or options:
            raise TypeError("a widget carries its own tokens and view: pass only the widget and the path")
    elif tokens is None:
        raise TypeError("tokens are required with an attention array: save_html(attention, path, tokens=[...])")
    else:
        saved = _view_of_tensors(source, tokens, **options)
    return standalone_html(
        saved.extraction,
        saved.view,
        sentence=saved.sentence,
        theme=theme or saved.theme,
        prettify_tokens=saved.prettify_tokens,
        analysis=saved.panels(),
    )


def _view_of_tensors(
    attention: Any,
    tokens: list[str],
    *,
    col_tokens: list[str] | None = None,
    sentence_b_start: int | None = None,
    max_attention_bytes: int = DEFAULT_MAX_ATTENTION_BYTES,
    **settings: Any,
) -> SavedView:
    """An attention array as a file's view, its settings checked as the widget checks them, with its Heads table."""
    unknown = sorted(set(settings) - set(SAVED_VIEW))
    if unknown:
        raise ValueError(f"unknown view settings {unknown}; use some of {list(SAVED_VIEW)}")
    extraction = extraction_from_tensors(
        attention, tokens, col_tokens=col_tokens, sentence_b_start=sentence_b_start, max_attention_bytes=max_attention_bytes
    )
    stack = extraction.weights(extraction.main.name, "a saved file")
    view: dict[str, Any] = {"stack": stack.name, "heads": list(range(stack.n_heads))}
    for name in VALUE_SETTINGS:
        if name in settings:
            view[name] = check_value_setting(name, settings[name])
    shown = shown_extraction(extraction, view.get("combine", "none"), view.get("granularity", "tokens"))
    context = ViewContext(stack_shapes(shown), stack.name, "attends_to")  # no encoding: only the sizes
    for name in VIEW_NAMES:  # in the table's order: the stack and direction before what depends on them
        if name in settings and name not in VALUE_SETTINGS:
            view[name] = check_view_value(name, settings[name], context)
            context = ViewContext(context.stacks, view["stack"], view.get("direction", "attends_to"))

    def panels() -> dict[str, Any]:
        columns = head_stats_columns(stack)
        return {"_head_stats": head_stats_payload(stack.name, columns, layer_summary(columns), version=1)}

    return SavedView(extraction, shown, view, panels=panels)


def save_html(
    source: Any, path: str | os.PathLike, tokens: list[str] | None = None, *, theme: str | None = None, **options: Any
) -> Path:
    """Write one self-contained HTML file (see the module docstring) and return its path.

    >>> save_html(widget, "bank.html")
    >>> save_html(outputs.attentions, "bank.html", tokens=tokens, layer=3)
    """
    return write_standalone(path, html_of(source, tokens, theme=theme, **options))


def write_standalone(path: str | os.PathLike, text: str) -> Path:
    """Write the file, with an error naming the path when that is not possible."""
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise OSError(f"cannot write {target}: {error.strerror or error}") from None
    return target


def script_json(value: Any) -> str:
    """JSON that is safe inside ``<script>``: no ``<``, ``>`` or ``&`` can end the element or start a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _split_buffers(payload: Any) -> tuple[Any, bytes]:
    """The payload with every memoryview replaced by a reference into one blob, and the blob.

    Each buffer starts at a multiple of 8 bytes, so float32 arrays are viewed in place.
    """
    chunks: list[bytes] = []
    offset = 0

    def walk(value: Any) -> Any:
        nonlocal offset
        if isinstance(value, memoryview):
            raw = value.tobytes()
            padding = -offset % 8
            if padding:
                chunks.append(b"\0" * padding)
                offset += padding
            chunks.append(raw)
            reference = {"$buffer": [offset, len(raw)]}
            offset += len(raw)
            return reference
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        return value

    return walk(payload), b"".join(chunks)


def _script_text(script: str) -> str:
    """The bundle inside <script>: a literal "</script" in it would end the element early."""
    return script.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _default_title(extraction: Extraction, sentence: str) -> str:
    label = sentence if len(sentence) <= 60 else sentence[:57] + "..."
    name = extraction.model_name or "attention"
    return f"{label} · {name} · attnwidget" if label else f"{name} · attnwidget"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="attnwidget">
<title>{title}</title>
<style>
html {{ color-scheme: light dark; }}
body {{ margin: 0; padding: 16px; background: Canvas; color: CanvasText; }}
#attnwidget-root {{ max-width: 1400px; margin: 0 auto; }}
</style>
<style>{css}</style>
</head>
<body>
<div id="attnwidget-root"></div>
<noscript>This attention view needs JavaScript.</noscript>
<script type="application/json" id="attnwidget-state">{state}</script>
<script type="text/plain" id="attnwidget-buffers">{blob}</script>
<script type="module">{script}</script>
</body>
</html>
"""
