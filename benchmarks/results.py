"""What one run of run.py measured: the tables report.py writes, shared by both without either importing the other."""

from __future__ import annotations

from dataclasses import dataclass, field

from measure_browser import BrowserResult
from measure_bytes import Bytes
from measure_memory import MemoryResult
from measure_python import AnalysisTimings, Breakdown, PythonTimings, RerunTimings
from profile_js import JsProfile


@dataclass
class DecoderResult:
    """The 2,048-token decoder: kernel timings and bytes (the browser side is a BrowserResult)."""

    timings: PythonTimings
    bytes: Bytes


@dataclass
class Results:
    meta: dict = field(default_factory=dict)
    python: list[PythonTimings] = field(default_factory=list)
    bytes: list[Bytes] = field(default_factory=list)
    rerun: RerunTimings | None = None
    big: Bytes | None = None
    decoder: DecoderResult | None = None
    browser: list[BrowserResult] = field(default_factory=list)
    memory: MemoryResult | None = None
    breakdowns: list[Breakdown] = field(default_factory=list)
    js_profiles: list[JsProfile] = field(default_factory=list)
    analysis: AnalysisTimings | None = None
    errors: dict[str, str] = field(default_factory=dict)
