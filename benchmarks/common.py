"""Shared pieces of the benchmark: timing statistics, inputs of an exact token count,
the models under test, and a comm that serialises messages the way a kernel does.

Everything here is benchmark scaffolding; the code under test is only ever called
through attnwidget's public (or documented page-facing) entry points.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
STATIC_DIR = REPO_DIR / "src" / "attnwidget" / "static"

try:  # an editable install is the documented way; a plain checkout works too
    import attnwidget  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the repo was set up
    sys.path.insert(0, str(REPO_DIR / "src"))

# JupyterLab, Chromium's flags and the notebook helpers are shared with the browser tests.
sys.path.insert(0, str(REPO_DIR / "tests"))
from helpers import labhost  # noqa: E402, F401 - the benchmarks import it from here

SIZES = (16, 64, 128, 256, 512)
QUICK_SIZES = (16, 128, 512)

# Prose with mostly common words, cycled to reach any length. Its content does
# not matter for timings or sizes, only its token count.
CORPUS = """
The bank by the river was closed for the day, so we walked along the water and
watched the boats come in. A man sat on the old stone wall and told us that the
town had been built around the mill, long before the railway came. When the rain
started we went back to the small cafe near the bridge, where the owner knew
everyone by name and the bread was still warm. She said the river had flooded
twice in her life, and both times the whole street had helped to carry the
chairs and tables up the hill. Later the sun came out again, the light turned
gold over the fields, and the children ran down to the bank to throw stones into
the water while their parents talked about the harvest, the weather and the news
from the city. In the evening the bells rang from the church on the square and
the last train left for the coast.
""".split()

FILLERS = ("a", "the", "of", ".", ",", "and", "to")


# ---- statistics -----------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements, in the unit they were taken in."""

    median: float
    p95: float
    min: float
    max: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stats:
        if not values:
            raise ValueError("no measurements")
        ordered = sorted(values)
        return cls(
            median=statistics.median(ordered),
            p95=percentile(ordered, 95),
            min=ordered[0],
            max=ordered[-1],
            n=len(ordered),
        )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile with linear interpolation (numpy's default method)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def time_calls(action: Callable[[], Any], repeat: int, warmup: int = 1) -> Stats:
    """Wall time of ``action`` in seconds over ``repeat`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return Stats.of(times)


# ---- inputs of an exact length --------------------------------------------------------


def token_count(tokenizer: Any, text: str) -> int:
    """Tokens the model sees for ``text``, special tokens included, without truncation."""
    return len(tokenizer(text)["input_ids"])


def text_with_tokens(tokenizer: Any, n_tokens: int, offset: int = 0) -> str:
    """A text of exactly ``n_tokens`` tokens (special tokens included) for this tokenizer.

    Words of :data:`CORPUS` are taken in order from ``offset`` (so two offsets give two
    different texts of the same length), then short filler words close the gap.
    """

    def words(k: int) -> list[str]:
        return [CORPUS[(offset + i) % len(CORPUS)] for i in range(k)]

    low, high = 0, n_tokens  # every word is at least one token
    while low < high:  # the largest word count whose text is not too long
        mid = (low + high + 1) // 2
        if token_count(tokenizer, " ".join(words(mid))) <= n_tokens:
            low = mid
        else:
            high = mid - 1
    chosen = words(low)
    count = token_count(tokenizer, " ".join(chosen))
    while count < n_tokens:
        for filler in FILLERS:
            longer = token_count(tokenizer, " ".join([*chosen, filler]))
            if longer == count + 1:
                chosen.append(filler)
                count = longer
                break
        else:
            raise RuntimeError(f"cannot build a text of exactly {n_tokens} tokens")
    text = " ".join(chosen)
    assert token_count(tokenizer, text) == n_tokens
    return text


# ---- models under test ----------------------------------------------------------------


@contextmanager
def model_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"attnwidget-bench-{prefix}-") as directory:
        yield Path(directory)


def save_random_bert(directory: Path, layers: int = 12, heads: int = 12, hidden: int = 768) -> Path:
    """A randomly initialised BERT of the given shape with the offline model's tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    from attnwidget import load_model

    torch.manual_seed(0)
    config = BertConfig(num_hidden_layers=layers, num_attention_heads=heads, hidden_size=hidden)
    BertModel(config).save_pretrained(directory)
    load_model("offline").tokenizer.save_pretrained(directory)
    return directory


def save_random_gpt2(directory: Path, positions: int = 2048, layers: int = 4, heads: int = 8, hidden: int = 256) -> Path:
    """A randomly initialised small GPT-2 with a byte-level BPE trained here on :data:`CORPUS`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2Model, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator([" ".join(CORPUS)] * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        model_max_length=positions,
    )
    tokenizer.save_pretrained(directory)

    torch.manual_seed(0)
    config = GPT2Config(n_positions=positions, n_layer=layers, n_head=heads, n_embd=hidden, vocab_size=len(tokenizer))
    GPT2Model(config).save_pretrained(directory)
    return directory


# ---- a kernel-like comm ---------------------------------------------------------------


@dataclass
class CommMessage:
    """One message a widget published: its type, JSON content, buffers and size on the wire."""

    msg_type: str
    data: dict
    buffers: list[memoryview]
    wire_bytes: int


class RecordingComm:
    """Installs a comm that serialises every message like ipykernel does, then drops it.

    Outside a kernel, ipywidgets talks to a ``DummyComm`` that does nothing, which
    would leave out the cost of JSON-encoding and signing the state. This comm packs
    each message with ``jupyter_client.session.Session`` (what ipykernel uses) so the
    Python timings include it, and optionally hands the messages to a listener.
    """

    def __init__(self) -> None:
        import comm as comm_module
        from comm.base_comm import BaseComm
        from jupyter_client.session import Session

        self._comm_module = comm_module
        self._previous: Callable[..., Any] | None = None
        self.listener: Callable[[CommMessage], None] | None = None
        session = Session(key=b"attnwidget-benchmark")
        recorder = self

        class _Comm(BaseComm):
            def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):  # type: ignore[override]
                content = dict(data={} if data is None else data, comm_id=self.comm_id, **keys)
                message = session.msg(msg_type, content=content, metadata=metadata or {})
                frames = session.serialize(message, ident=self.topic)
                views = [memoryview(buffer) for buffer in buffers or []]
                size = sum(len(frame) for frame in frames) + sum(view.nbytes for view in views)
                if recorder.listener is not None:
                    recorder.listener(CommMessage(msg_type, content["data"], views, size))

        self._comm_class = _Comm

    def __enter__(self) -> RecordingComm:
        self._previous = self._comm_module.create_comm
        self._comm_module.create_comm = self._comm_class
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._previous is not None
        self._comm_module.create_comm = self._previous

    @contextmanager
    def listen(self) -> Iterator[list[CommMessage]]:
        """Collect the messages published inside the block."""
        messages: list[CommMessage] = []
        previous, self.listener = self.listener, messages.append
        try:
            yield messages
        finally:
            self.listener = previous


def close_widget(widget: Any) -> None:
    """Close a widget and make sure this process can free it.

    anywidget turns an ``_esm``/``_css`` given as a file path into a ``FileContents``
    whose ``changed`` signal holds a lambda over every instance, so no instance is
    ever freed (measure_memory.py measures that leak as it is). The benchmark
    process creates many large widgets, so it drops those connections here.
    """
    widget.close()
    for key in ("_esm", "_css"):
        signal = getattr(getattr(type(widget), key, None), "changed", None)
        if signal is not None:
            signal.disconnect()
