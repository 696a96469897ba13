"""The page's side of the widget: state updates and messages from it, checked and answered.

The page is an untrusted peer. A state update may change only the view state and
``page_runs`` (``validation.PAGE_SETTABLE``) and only to values the rules accept; anything else
is sent back (the page snaps back) with a ``refused`` message it shows. Messages
are ``layers`` requests (answered at most once per layer, in parts under
``payload.MAX_MESSAGE_BYTES``), ``run`` and ``compare`` requests (answered with
their id in ``_request``, or with ``error``), ``compare_layers`` (like ``layers``,
for the comparison), ``head_stats`` (answered in ``_head_stats``) and the neuron view's
``qk`` requests (one head's queries and keys in row blocks under the same bound, see
``neuron.py``); malformed ones are ignored with one log line.
Nothing the page sends raises into the kernel.

This mixin is glue for :class:`attnwidget.widget.AttentionWidget`, whose traits
and re-run methods it uses.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import traitlets as t

from . import validation as rules
from .neuron import head_messages

log = logging.getLogger(__name__)


class PageSide:
    """Handles what the page sends; mixed into ``AttentionWidget`` before ``AnyWidget``."""

    def set_state(self, sync_data: dict) -> None:
        """A state update from the page: only view state, only valid values; the rest snaps back.

        A refused value is answered with Python's value (the page's control returns
        to it) and a ``refused`` message the page shows in its error line.
        """
        if not isinstance(sync_data, dict):
            log.warning("attnwidget: ignored a state update from the page that is not a dict: %s", rules.shorten(sync_data))
            return
        if self._encoded is None:
            return
        # combine and granularity first: focus and the rest are checked against the tokens or words they lead to.
        display = {name: value for name, value in sync_data.items() if name in rules.DISPLAY_SETTINGS}
        rest = {name: value for name, value in sync_data.items() if name not in rules.DISPLAY_SETTINGS}
        refused: dict[str, str] = {}
        for patch in (display, rest):
            if patch:
                refused.update(self._apply_page_patch(patch))
        if refused:
            self._refuse(refused)

    def _apply_page_patch(self, sync_data: dict) -> dict[str, str]:
        """Apply the values the rules accept; returns the refusals (name -> reason)."""
        accepted, refused = rules.check_page_patch(
            sync_data, stacks=self._stack_shapes(), stack=self.stack, direction=self.direction, answered=self._request
        )
        if accepted:
            try:
                # The page's own values: the validators normalise them (heads sorted) and
                # ipywidgets sends back any that changed, so the page holds Python's form.
                super().set_state({name: sync_data[name] for name in accepted})
            except t.TraitError as error:  # cannot happen after the check above; never let the page desync
                refused.update({name: str(error) for name in accepted})
        return refused

    def _refuse(self, refused: dict[str, str]) -> None:
        names = [name for name in refused if name in self.keys]
        if names:
            self.send_state(names)
        message = "; ".join(refused.values())
        log.info("attnwidget: refused from the page: %s", message)
        self.send({"type": "refused", "message": rules.shorten_text(f"Not applied: {message}")})

    def _on_page_message(self, _widget: Any, content: Any, _buffers: list) -> None:
        """Every message is answered or ignored with one log line; none raises into the kernel."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "layers":
            self._send_layers(content)
        elif kind == "run":
            self._run_from_page(content)
        elif kind == "compare":
            self._compare_from_page(content)
        elif kind == "compare_layers":
            self._send_compare_layers(content)
        elif kind == "head_stats":
            self._send_head_stats(content)
        elif kind == "qk":
            self._send_queries(content)
        else:
            log.warning("attnwidget: ignored a page message of unknown type: %s", rules.shorten(content))

    def _send_layers(self, content: dict) -> None:
        """At most each layer of one stack once per request, and none that `_data` already holds."""
        encoded = self._encoded
        try:
            version, stack, layers = rules.check_layer_request(content, self._stack_shapes())
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed layer request: %s", error)
            return
        if encoded is None or version != encoded.version:
            return  # a request for data the page has already replaced
        held = self._data.get("stacks", {}).get(stack, {}).get("layers", {})
        for layer in layers:
            if str(layer) in held:
                continue
            for message, buffers in encoded.layer_messages(stack, layer):
                self.send(message, buffers)

    def _send_queries(self, content: dict) -> None:
        """One head's queries and keys for the neuron view, in row blocks; an ``error`` when there are none."""
        encoded = self._encoded
        try:
            version, stack, layer, head = rules.check_queries_request(content, self._stack_shapes())
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed queries request: %s", error)
            return
        if encoded is None or version != encoded.version:
            return  # a request for data the page has already replaced
        header = {"type": "qk", "version": version, "stack": stack, "layer": layer, "head": head}
        try:
            queries = self.qk(layer, head, stack)
        except ValueError as error:
            self.send({**header, "error": rules.shorten_text(str(error))})
            return
        header["key_head"] = encoded.extraction.queries.stacks[stack].key_head(head)  # type: ignore[union-attr]
        for message, buffers in head_messages(queries, header):
            self.send(message, buffers)

    def _run_from_page(self, content: dict) -> None:
        """A sentence or model chosen in the page. Answered by setting `_request` to its id
        with the new state, or with `error` (the last good view stays); never raises."""
        try:
            request = rules.check_request_id(content.get("request"))
        except ValueError as error:
            log.warning("attnwidget: ignored a run message: %s", error)
            return
        try:
            if not self.has_model or self._model_spec is None:
                raise ValueError("this widget shows tensors given to it and has no model to re-run")
            run = rules.check_run_message(content, self.models)
            texts = {"sentence": run.sentence, "sentence_b": run.sentence_b, "target": run.target}
            inputs = replace(self._inputs(), **{key: text for key, text in texts.items() if text is not None})
            # The current model by what it is (it may be a (model, tokenizer) pair), others by their name.
            model = self._model_spec if run.model in (None, self.model) else run.model
            prepared = self._prepare(inputs, model)
        except KeyboardInterrupt:
            self._answer(request, "the run was interrupted; the last view is kept")
            raise
        except Exception as error:  # noqa: BLE001 - every failure is shown, the last view kept
            self._answer(request, _describe(error))
            return
        try:
            self._commit(prepared, request=request)
        except Exception as error:  # noqa: BLE001 - the page waits for an answer: it must get one
            self._answer(request, _describe(error))

    def _compare_from_page(self, content: dict) -> None:
        """A second model chosen in the page, among ``models`` ("" stops comparing). Answered
        like a run: `_request` set to its id with the comparison, or with `error`; never raises."""
        try:
            request = rules.check_request_id(content.get("request"))
        except ValueError as error:
            log.warning("attnwidget: ignored a compare message: %s", error)
            return
        try:
            _, model = rules.check_compare_message(content, self.models)
            self._start_comparison(model or None, request=request)
        except KeyboardInterrupt:
            self._answer(request, "the comparison was interrupted; the last view is kept")
            raise
        except Exception as error:  # noqa: BLE001 - the last good view stays; the error says why
            self._answer(request, _describe(error))

    def _send_compare_layers(self, content: dict) -> None:
        """Layers of the comparison's A or B, in parts under the message bound, like ``layers``."""
        encoded = self._compare_encoded
        if encoded is None:
            return
        try:
            version, stack, layers = rules.check_layer_request(content, encoded.shapes())
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed comparison layer request: %s", error)
            return
        if version != encoded.version:
            return
        for layer in layers:
            for message, buffers in encoded.layer_messages(stack, layer):
                self.send({**message, "source": "compare"}, buffers)

    def _send_head_stats(self, content: dict) -> None:
        """Answer ``{version, stack}`` by setting `_head_stats`; stale requests are dropped."""
        try:
            version, stack = rules.check_head_stats_request(content, self._stack_shapes())
        except ValueError as error:
            log.warning("attnwidget: ignored a malformed head statistics request: %s", error)
            return
        if self._encoded is not None and version == self._encoded.version:
            self._head_stats = self._head_stats_payload(stack)

    def _answer(self, request: int, error: str) -> None:
        with self.hold_sync():
            self.error = error
            self._request = request


def _describe(error: Exception) -> str:
    message = str(error).strip() or type(error).__name__
    return message if isinstance(error, (ValueError, OSError)) else f"{type(error).__name__}: {message}"
