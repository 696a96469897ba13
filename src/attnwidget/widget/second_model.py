"""The second model of a comparison: loaded once, run again on each new input, aligned with the first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..analysis.compare import Comparison, compare_extractions
from ..core.stack import Extraction
from ..sources.forward import extract
from ..sources.models import LoadedModel, ModelSpec, load_model
from ..wire.analysis import comparison_payload, encoded_comparison
from ..wire.payload import EncodedExtraction
from .runs import Inputs


@dataclass(frozen=True)
class Candidate:
    """A second model run and aligned, not yet shown."""

    loaded: LoadedModel
    extraction: Extraction
    comparison: Comparison


class SecondModel:
    """What the widget keeps of its comparison; every step that can fail changes nothing here."""

    def __init__(self, max_attention_bytes: int, prettify_tokens: bool) -> None:
        self._max_attention_bytes = max_attention_bytes
        self._prettify_tokens = prettify_tokens
        self.loaded: LoadedModel | None = None
        self.extraction: Extraction | None = None  # its run on the current input
        self.comparison: Comparison | None = None
        self.encoded: EncodedExtraction | None = None  # A and B, to answer compare_layers requests

    @property
    def active(self) -> bool:
        return self.loaded is not None and self.comparison is not None

    def run(self, model: ModelSpec | LoadedModel, inputs: Inputs) -> Extraction:
        return extract(
            model,
            inputs.sentence,
            sentence_b=inputs.sentence_b or None,
            target=inputs.target or None,
            max_attention_bytes=self._max_attention_bytes,
        )

    def tried(self, spec: ModelSpec, inputs: Inputs, first: Extraction, stack: str, granularity: str) -> Candidate:
        """Load ``spec``, run it on ``inputs`` and align it with ``first``; raises, changing nothing, on failure."""
        loaded = load_model(spec)
        extraction = self.run(loaded, inputs)
        return Candidate(loaded, extraction, compare_extractions(first, extraction, stack, granularity))

    def realigned(self, inputs: Inputs, first: Extraction, stack: str, granularity: str, *, rerun: bool) -> Candidate:
        """The current second model against a new input (``rerun``) or another stack or granularity; may raise."""
        assert self.loaded is not None
        extraction = self.run(self.loaded, inputs) if rerun or self.extraction is None else self.extraction
        return Candidate(self.loaded, extraction, compare_extractions(first, extraction, stack, granularity))

    def show(self, candidate: Candidate | None, model_b: str, version: int, layer: int) -> dict[str, Any]:
        """Swap in ``candidate`` (None: stop comparing); returns the ``_compare`` payload for ``layer``."""
        if candidate is None:
            self.loaded = self.extraction = self.comparison = self.encoded = None
            return {}
        self.loaded, self.extraction, self.comparison = candidate.loaded, candidate.extraction, candidate.comparison
        self.encoded = encoded_comparison(candidate.comparison, model_b, version, prettify_tokens=self._prettify_tokens)
        return comparison_payload(candidate.comparison, self.encoded, layer)

    def file_payload(self, model_b: str, layer: int) -> dict[str, Any] | None:
        """The ``_compare`` trait as a saved file holds it (every layer), or None without a comparison."""
        if self.comparison is None:
            return None
        encoded = encoded_comparison(self.comparison, model_b, 1, prettify_tokens=self._prettify_tokens)
        return comparison_payload(self.comparison, encoded, layer, every_layer=True)
