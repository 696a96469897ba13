"""The widget's page side: state updates and messages from the page, checked and answered.

The page is an untrusted peer. A state update may change only the view state and
``page_runs`` (``wire.view_state.PAGE_SETTABLE``) and only to values the rules accept;
anything else is sent back (the page snaps back) with a ``refused`` message it shows.
Each message is checked by ``wire.requests`` and answered, or ignored with one log
line; nothing the page sends raises into the kernel. The messages are described in
ARCHITECTURE.md.

:class:`PageSide` reads the widget only through :class:`PageHost`, which names
exactly what it uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import traitlets as t

from ..core.checks import shorten, shorten_text
from ..core.queries import HeadQueries
from ..long.stack import LongStack
from ..wire import requests
from ..wire.analysis import empty_head_stats_payload
from ..wire.long import long_answer
from ..wire.payload import EncodedExtraction
from ..wire.queries import head_messages
from ..wire.view_state import VALUE_SETTINGS, ViewContext, check_page_patch

log = logging.getLogger("attnwidget.page")


class PageHost(Protocol):
    """What the page side needs of the widget (its own methods, private to the package)."""

    def _shown_data(self) -> EncodedExtraction | None:
        """What the page shows now (None while constructing)."""

    def _comparison_data(self) -> EncodedExtraction | None:
        """The comparison's A and B, when there is one."""

    def _answered(self) -> int:
        """The last run request Python answered (``_request``), the bound of ``page_runs``."""

    def _model_choices(self) -> list[str]:
        """The models the page may choose among."""

    def _view_context(self) -> ViewContext: ...

    def _held_layers(self, stack: str) -> Mapping[str, Any]:
        """The layers of ``stack`` that ``_data`` already holds, by index as a string."""

    def _apply_page_state(self, values: dict[str, Any]) -> None:
        """Set checked values from the page as ipywidgets would."""

    def _snap_back(self, names: list[str]) -> None:
        """Send Python's values of ``names`` back to the page."""

    def send(self, content: dict[str, Any], buffers: list[memoryview] | None = None) -> None: ...

    def _head_queries(self, stack: str, layer: int, head: int) -> HeadQueries:
        """One head's queries and keys; a ValueError when there are none."""

    def _key_head(self, stack: str, head: int) -> int: ...

    def _require_model(self) -> None:
        """Raise ValueError when there is no model to re-run (a widget of tensors)."""

    def _run_from_page(self, run: requests.RunRequest) -> None:
        """Run the page's input and show it with its request id; raise, changing nothing, when that fails."""

    def _compare_from_page(self, model: str, request: int) -> None:
        """Compare with ``model`` ("" stops) and answer ``request``; raise, changing nothing, when that fails."""

    def _answer(self, request: int, error: str) -> None:
        """Answer ``request`` with ``error``; the last good view stays."""

    def _head_stats_payload(self, stack: str) -> dict[str, Any]: ...

    def _set_head_stats(self, payload: dict[str, Any]) -> None: ...


class PageSide:
    """Turns what the page sends into calls on its :class:`PageHost`; never raises into the kernel."""

    def __init__(self, host: PageHost) -> None:
        self.host = host
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "layers": self._send_layers,
            "run": self._run,
            "compare": self._compare,
            "compare_layers": self._send_compare_layers,
            "head_stats": self._send_head_stats,
            "qk": self._send_queries,
            "long": self._send_long,
        }

    # ---- state updates -------------------------------------------------------------------

    def set_state(self, sync_data: Any) -> None:
        """A state update from the page: only view state, only valid values; the rest snaps back.

        A refused value is answered with Python's value (the page's control returns
        to it) and a ``refused`` message the page shows in its error line.
        """
        if not isinstance(sync_data, dict):
            log.warning("attnwidget: ignored a state update from the page that is not a dict: %s", shorten(sync_data))
            return
        if self.host._shown_data() is None:
            return
        # combine and granularity first: focus and the rest are checked against the tokens or words they lead to.
        values = {name: value for name, value in sync_data.items() if name in VALUE_SETTINGS}
        rest = {name: value for name, value in sync_data.items() if name not in VALUE_SETTINGS}
        refused: dict[str, str] = {}
        for patch in (values, rest):
            if patch:
                refused.update(self._apply(patch))
        if refused:
            self._refuse(refused)

    def _apply(self, patch: dict[str, Any]) -> dict[str, str]:
        """Apply the values the rules accept; returns the refusals (name -> reason)."""
        accepted, refused = check_page_patch(patch, self.host._view_context(), answered=self.host._answered())
        if accepted:
            try:
                # The page's own values: the validators normalise them (heads sorted) and
                # ipywidgets sends back any that changed, so the page holds Python's form.
                self.host._apply_page_state({name: patch[name] for name in accepted})
            except t.TraitError as error:  # cannot happen after the check above; never let the page desync
                refused.update({name: str(error) for name in accepted})
        return refused

    def _refuse(self, refused: dict[str, str]) -> None:
        self.host._snap_back(list(refused))
        message = "; ".join(refused.values())
        log.info("attnwidget: refused from the page: %s", message)
        self.host.send({"type": "refused", "message": shorten_text(f"Not applied: {message}")})

    # ---- messages --------------------------------------------------------------------------

    def on_message(self, _widget: Any, content: Any, _buffers: list[Any]) -> None:
        """Every message is answered or ignored with one log line; none raises into the kernel."""
        handler = self._handlers.get(str(content.get("type"))) if isinstance(content, dict) else None
        if handler is None:
            log.warning("attnwidget: ignored a page message of unknown type: %s", shorten(content))
            return
        handler(content)

    def _current(self, version: int) -> EncodedExtraction | None:
        """The shown data when the request is about it; None for data the page has already replaced."""
        shown = self.host._shown_data()
        return shown if shown is not None and shown.version == version else None

    def _send_layers(self, content: dict[str, Any]) -> None:
        """At most each layer of one stack once per request, and none that `_data` already holds."""
        try:
            version, stack, layers = requests.check_layer_request(content, self.host._view_context().stacks)
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed layer request: %s", error)
            return
        shown = self._current(version)
        if shown is None:
            return
        if shown.extraction.stacks[stack].is_long:
            log.warning("attnwidget: ignored a layer request for a long input, which has no layers to send")
            return
        held = self.host._held_layers(stack)
        for layer in layers:
            if str(layer) in held:
                continue
            for message, buffers in shown.layer_messages(stack, layer):
                self.host.send(message, buffers)

    def _send_queries(self, content: dict[str, Any]) -> None:
        """One head's queries and keys for the neuron view, in row blocks; an ``error`` when there are none."""
        try:
            version, stack, layer, head = requests.check_queries_request(content, self.host._view_context().stacks)
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed queries request: %s", error)
            return
        if self._current(version) is None:
            return
        header: dict[str, Any] = {"type": "qk", "version": version, "stack": stack, "layer": layer, "head": head}
        try:
            queries = self.host._head_queries(stack, layer, head)
        except ValueError as error:
            self.host.send({**header, "error": shorten_text(str(error))})
            return
        header["key_head"] = self.host._key_head(stack, head)
        for message, buffers in head_messages(queries, header):
            self.host.send(message, buffers)

    def _send_long(self, content: dict[str, Any]) -> None:
        """One tile, row, set of top keys or thumbnails of a long input, computed now: one message, or an ``error``."""
        try:
            request = requests.check_long_request(content, self.host._view_context().stacks)
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed long-input request: %s", error)
            return
        shown = self._current(request.version)
        if shown is None:
            return
        stack = shown.extraction.stacks[request.stack]
        if not isinstance(stack, LongStack):
            echo = {"type": "long", "version": request.version, "stack": request.stack, "id": request.id}
            self.host.send({**echo, "what": request.what, "error": "this input's attention is sent whole: ask for layers"})
            return
        message, buffers = long_answer(stack, request)
        self.host.send(message, buffers)

    def _run(self, content: dict[str, Any]) -> None:
        """A sentence or model chosen in the page. Answered by setting `_request` to its id
        with the new state, or with `error` (the last good view stays); never raises."""
        try:
            request = requests.check_request_id(content.get("request"))
        except ValueError as error:
            log.warning("attnwidget: ignored a run message: %s", error)
            return
        try:
            self.host._require_model()
            self.host._run_from_page(requests.check_run_message(content, self.host._model_choices()))
        except KeyboardInterrupt:
            self.host._answer(request, "the run was interrupted; the last view is kept")
            raise
        except Exception as error:  # noqa: BLE001 - every failure is shown, the last view kept
            self.host._answer(request, describe(error))

    def _compare(self, content: dict[str, Any]) -> None:
        """A second model chosen in the page, among ``models`` ("" stops comparing). Answered
        like a run: `_request` set to its id with the comparison, or with `error`; never raises."""
        try:
            request = requests.check_request_id(content.get("request"))
        except ValueError as error:
            log.warning("attnwidget: ignored a compare message: %s", error)
            return
        try:
            _, model = requests.check_compare_message(content, self.host._model_choices())
            self.host._compare_from_page(model, request)
        except KeyboardInterrupt:
            self.host._answer(request, "the comparison was interrupted; the last view is kept")
            raise
        except Exception as error:  # noqa: BLE001 - the last good view stays; the error says why
            self.host._answer(request, describe(error))

    def _send_compare_layers(self, content: dict[str, Any]) -> None:
        """Layers of the comparison's A or B, in parts under the message bound, like ``layers``."""
        encoded = self.host._comparison_data()
        if encoded is None:
            return
        try:
            version, stack, layers = requests.check_layer_request(content, encoded.shapes())
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed comparison layer request: %s", error)
            return
        if version != encoded.version:
            return
        for layer in layers:
            for message, buffers in encoded.layer_messages(stack, layer):
                self.host.send({**message, "source": "compare"}, buffers)

    def _send_head_stats(self, content: dict[str, Any]) -> None:
        """Answer ``{version, stack}`` by setting `_head_stats`; stale requests are dropped."""
        try:
            version, stack = requests.check_head_stats_request(content, self.host._view_context().stacks)
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed head statistics request: %s", error)
            return
        shown = self._current(version)
        if shown is None:
            return
        if shown.extraction.stacks[stack].is_long:
            # The statistics read every weight, which a long input does not keep: no rows hide the Heads table.
            self.host._set_head_stats(empty_head_stats_payload(stack, version))
            return
        self.host._set_head_stats(self.host._head_stats_payload(stack))


def describe(error: BaseException) -> str:
    """An error as the page's one line: the message, with the type when it is not the user's input."""
    message = str(error).strip() or type(error).__name__
    return message if isinstance(error, ValueError | OSError) else f"{type(error).__name__}: {message}"
