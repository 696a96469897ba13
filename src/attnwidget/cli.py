"""The command line: ``attnwidget "text" -o bank.html`` and ``python -m attnwidget``.

One sentence to one file, or one file per line of ``--input``::

    attnwidget "He went to the bank to deposit money." --model offline -o bank.html
    attnwidget "He went to the bank." -o bank.png --view heatmap --layer 3 --heads 0,5
    attnwidget "He went to the bank." -o bank.png --combine rollout --granularity words
    attnwidget --input sentences.txt --out-dir out/ --format html

``.html`` is the self-contained offline page of ``save_html``; ``.png``, ``.svg`` and
``.pdf`` are a figure of ``--view`` (needs ``attnwidget[plot]``). Problems (a model
that cannot be loaded, no text, a path that cannot be written) are one line on
stderr and a non-zero exit status: 2 for a wrong command line, 1 for everything else.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis.shown import COMBINES, GRANULARITIES, shown_extraction
from .analysis.words import stack_word_ids, word_labels
from .core.checks import check_indices
from .core.stack import AttentionStack, Extraction
from .core.tokens import display_tokens, token_index
from .export.html import standalone_html, write_standalone
from .sources.forward import check_sentence, extract
from .sources.models import OFFLINE_MODEL, LoadedModel, load_model

FORMATS = ("html", "png", "svg", "pdf")
VIEWS = ("heatmap", "token_focus", "head_view", "model_view")
NAME_CHARS = 40  # of the sentence, in the name of each file --input writes


class CommandError(Exception):
    """A problem the user can fix, reported as one line."""


@dataclass(frozen=True)
class ViewChoice:
    view: str
    layer: int
    heads: list[int] | None
    focus: str | None
    direction: str
    theme: str
    combine: str = "none"
    granularity: str = "tokens"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="attnwidget",
        description="Export a Transformer's attention as a self-contained HTML page or a figure.",
        epilog='example: attnwidget "He went to the bank." --model offline -o bank.html',
    )
    p.add_argument("text", nargs="?", help="the sentence to run (or use --input)")
    p.add_argument("--model", default="bert-base-uncased", help=f"Hugging Face id, local directory, or {OFFLINE_MODEL!r}")
    p.add_argument("--sentence-b", help="a second sentence, for models that take pairs")
    p.add_argument("-o", "--output", type=Path, help="the file to write: .html, .png, .svg or .pdf")
    p.add_argument("--input", type=Path, help="a text file: one sentence per line, one output file each")
    p.add_argument("--out-dir", type=Path, help="where --input's files go (created if missing)")
    p.add_argument("--format", choices=FORMATS, default="html", help="--input's output format (default: html)")
    p.add_argument("--view", choices=VIEWS, default="heatmap", help="the figure to draw (png/svg/pdf)")
    p.add_argument("--layer", type=int, default=0, help="layer shown (default 0)")
    p.add_argument("--heads", type=_head_list, help="heads shown, e.g. 0,5 (default: all)")
    p.add_argument("--focus", help="focus token, as text ('bank') or index (token_focus needs one)")
    p.add_argument("--direction", choices=("attends_to", "attended_by"), default="attends_to")
    p.add_argument(
        "--theme", choices=("auto", "light", "dark"), default="auto", help="auto: HTML follows the OS; figures are light"
    )
    p.add_argument("--combine", choices=COMBINES, default="none", help="rollout: each layer composed with the layers below it")
    p.add_argument("--granularity", choices=GRANULARITIES, default="tokens", help="words: word pieces merged into words")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if (args.text is None) == (args.input is None):
        p.error("give a sentence or --input FILE (one of them)")
    if args.text is not None and args.output is None:
        p.error("give the file to write with -o, e.g. -o bank.html or -o bank.png")
    if args.input is not None and args.out_dir is None:
        p.error("--input needs --out-dir")
    choice = ViewChoice(args.view, args.layer, args.heads, args.focus, args.direction, args.theme, args.combine, args.granularity)
    try:
        if args.text is not None:
            check_sentence(args.text, "the sentence")
            format_ = _format_of(args.output)
            _check_writable(args.output.parent)
            loaded = _load(args.model)
            export(loaded, args.text, args.sentence_b, args.output, format_, choice)
            print(f"wrote {args.output}", file=sys.stderr)
            return 0
        return export_lines(args.input, args.out_dir, args.format, args.model, args.sentence_b, choice)
    except (CommandError, ValueError, OSError) as error:
        print(f"attnwidget: error: {error}", file=sys.stderr)
        return 1


def export(loaded: LoadedModel, text: str, sentence_b: str | None, path: Path, format_: str, choice: ViewChoice) -> None:
    """Run one sentence and write it as ``format_``."""
    try:
        extraction = extract(loaded, text, sentence_b=sentence_b)
        if format_ == "html":
            html = standalone_html(extraction, _html_view(extraction, choice), sentence=text, theme=choice.theme)
            write_standalone(path, html)
        else:
            figure = _figure(extraction, choice)
            figure.savefig(path, format=format_, facecolor=figure.get_facecolor(), bbox_inches="tight")
    except (ValueError, OSError) as error:
        raise CommandError(str(error)) from None


def export_lines(source: Path, out_dir: Path, format_: str, model: str, sentence_b: str | None, choice: ViewChoice) -> int:
    """One file per non-empty line of ``source``; a summary at the end; 1 when any line failed."""
    from tqdm import tqdm

    try:
        lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines()]
    except OSError as error:
        raise CommandError(f"cannot read {source}: {error.strerror or error}") from None
    sentences = [line for line in lines if line]
    if not sentences:
        raise CommandError(f"{source} has no sentences: write one per line")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CommandError(f"cannot create {out_dir}: {error.strerror or error}") from None
    _check_writable(out_dir)
    loaded = _load(model)
    failures: list[str] = []
    written = 0
    width = len(str(len(sentences)))
    for number, sentence in enumerate(tqdm(sentences, desc="exporting", unit="sentence"), start=1):
        path = out_dir / f"{number:0{width}d}-{_slug(sentence)}.{format_}"
        try:
            export(loaded, sentence, sentence_b, path, format_, choice)
            written += 1
        except CommandError as error:
            failures.append(f"line {number}: {error}")
    print(f"wrote {written} of {len(sentences)} files to {out_dir}", file=sys.stderr)
    for failure in failures:
        print(f"attnwidget: error: {failure}", file=sys.stderr)
    return 1 if failures else 0


# ---- pieces ---------------------------------------------------------------------------------------------


def _load(model: str) -> LoadedModel:
    try:
        return load_model(model)
    except Exception as error:  # noqa: BLE001 - any loading failure is the user's model name or setup
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CommandError(f"cannot load the model {model!r}: {message}") from None


def _html_view(extraction: Extraction, choice: ViewChoice) -> dict[str, Any]:
    stack = extraction.weights(extraction.main.name, "the command line")  # rollout and words keep its layers and heads
    view: dict[str, Any] = {
        "layer": check_indices([choice.layer], stack.n_layers, "--layer", "layers")[0],
        "combine": choice.combine,
        "granularity": choice.granularity,
    }
    if choice.heads is not None:
        view["heads"] = sorted(check_indices(choice.heads, stack.n_heads, "--heads", "heads"))
    if choice.focus is not None:
        axis = "row" if choice.direction == "attends_to" else "col"
        tokens = stack.row_tokens if axis == "row" else stack.col_tokens
        if choice.granularity == "words":  # --focus names a word when the file shows words
            tokens = word_labels(tokens, stack_word_ids(stack, axis))
        view["focus"] = token_index(_focus_value(choice.focus), display_tokens(tokens))
        view["direction"] = choice.direction
    return view


def _shown(extraction: Extraction, choice: ViewChoice) -> AttentionStack:
    """The main stack as the output shows it: rollout and/or words when asked for."""
    shown = shown_extraction(extraction, choice.combine, choice.granularity)
    return shown.weights(shown.main.name, "the command line")


def _figure(extraction: Extraction, choice: ViewChoice) -> Any:
    try:
        from .export import plot
    except ImportError as error:
        raise CommandError(f"figures need matplotlib: pip install 'attnwidget[plot]' ({error})") from None
    theme = choice.theme if choice.theme != "auto" else "light"
    options: dict[str, Any] = {"heads": choice.heads, "theme": theme}
    if choice.view != "model_view":
        options["layer"] = choice.layer
    if choice.view == "token_focus":
        if choice.focus is None:
            raise CommandError("--view token_focus needs --focus, e.g. --focus bank")
        options.update(focus=_focus_value(choice.focus), direction=choice.direction)
    elif choice.view == "head_view" and choice.focus is not None:
        options["focus"] = _focus_value(choice.focus)
    stack = _shown(extraction, choice)
    shown = plot.AttentionInput(
        stack.layers,
        display_tokens(stack.row_tokens),
        display_tokens(stack.col_tokens),
        stack.name,
        choice.combine,
        choice.granularity,
    )
    return plot.figure(shown, choice.view, **options)


def _focus_value(focus: str) -> int | str:
    return int(focus) if focus.isdigit() else focus


def _format_of(path: Path) -> str:
    format_ = path.suffix.lower().lstrip(".")
    if format_ not in FORMATS:
        raise CommandError(f"cannot tell what to write from {path.name!r}: end the name with .html, .png, .svg or .pdf")
    return format_


def _check_writable(directory: Path) -> None:
    """Fail before running the model when the output cannot be written."""
    directory = directory if str(directory) else Path(".")
    if not directory.is_dir():
        raise CommandError(f"cannot write to {directory}: no such directory")
    if not os.access(directory, os.W_OK):
        raise CommandError(f"cannot write to {directory}: permission denied")


def _head_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"heads must be numbers separated by commas, e.g. 0,5; got {text!r}") from None


def _slug(sentence: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", sentence.lower()).strip("-")
    return slug[:NAME_CHARS].rstrip("-") or "sentence"
