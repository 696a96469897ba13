"""The command line, run as a user runs it: a separate process, files on disk, exit statuses and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from attnwidget.cli import main
from helpers.standalone_reading import embedded

SENTENCE = "He went to the bank to deposit money."


def attnwidget(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "attnwidget", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_sentence_to_a_standalone_page_with_the_chosen_view(tmp_path: Path) -> None:
    result = attnwidget(
        SENTENCE, "--model", "offline", "-o", "bank.html", "--layer", "3", "--heads", "0,5", "--focus", "bank", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    state, _ = embedded((tmp_path / "bank.html").read_text(encoding="utf-8"))
    traits = state["traits"]
    assert (traits["layer"], traits["heads"], traits["focus"]) == (3, [0, 5], 5)
    assert traits["_data"]["stacks"]["self"]["rows"][5] == "bank"
    assert traits["sentence"] == SENTENCE
    assert "wrote bank.html" in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("suffix", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_a_sentence_to_a_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, magic: bytes) -> None:
    monkeypatch.chdir(tmp_path)  # in this process: the same main() as above, without loading torch again
    args = [
        SENTENCE,
        "--model",
        "offline",
        "-o",
        f"bank.{suffix}",
        "--view",
        "token_focus",
        "--focus",
        "bank",
        "--layer",
        "3",
        "--heads",
        "0,5",
    ]
    assert main(args) == 0
    assert (tmp_path / f"bank.{suffix}").read_bytes().startswith(magic)


PIECES = "The tokenised embeddings went to the riverbank."  # token ##ised, em ##bed ##ding ##s, river ##bank


def test_rollout_over_words_to_a_standalone_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = [
        PIECES,
        "--model",
        "offline",
        "-o",
        "words.html",
        "--combine",
        "rollout",
        "--granularity",
        "words",
        "--focus",
        "riverbank",
    ]
    assert main(args) == 0
    state, _ = embedded((tmp_path / "words.html").read_text(encoding="utf-8"))
    traits = state["traits"]
    assert (traits["combine"], traits["granularity"]) == ("rollout", "words")
    rows = traits["_data"]["stacks"]["self"]["rows"]
    assert rows == ["[CLS]", "the", "tokenised", "embeddings", "went", "to", "the", "riverbank", ".", "[SEP]"]
    assert rows[traits["focus"]] == "riverbank"  # --focus names a word, as the file shows words


def test_rollout_over_words_to_a_figure_says_so_in_its_title(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib

    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")  # text stays text in the SVG, to read it here
    assert (
        main([PIECES, "--model", "offline", "-o", "words.svg", "--layer", "2", "--combine", "rollout", "--granularity", "words"])
        == 0
    )
    svg = (tmp_path / "words.svg").read_text(encoding="utf-8")
    assert "Rollout of layers 0–2 · words" in svg
    assert "riverbank" in svg and "##bank" not in svg


def test_one_file_per_line_with_a_progress_bar_and_a_summary(tmp_path: Path) -> None:
    (tmp_path / "sentences.txt").write_text("The river bank was muddy.\n\nHe went to the bank.\n", encoding="utf-8")
    result = attnwidget("--input", "sentences.txt", "--out-dir", "out", "--format", "html", "--model", "offline", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "1-the-river-bank-was-muddy.html",
        "2-he-went-to-the-bank.html",
    ]
    state, _ = embedded((tmp_path / "out" / "2-he-went-to-the-bank.html").read_text(encoding="utf-8"))
    assert state["traits"]["sentence"] == "He went to the bank."
    assert "2/2" in result.stderr  # tqdm's progress
    assert "wrote 2 of 2 files to out" in result.stderr


def test_a_missing_model_is_one_clear_line_and_a_failing_exit(tmp_path: Path) -> None:
    result = attnwidget("x", "--model", "/no/such/model", "-o", "x.html", cwd=tmp_path)
    assert result.returncode == 1
    assert "attnwidget: error: cannot load the model '/no/such/model'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.html").exists()


# The other problems are found before any model runs: checked in this process, through the same main().
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "empty.txt", "--out-dir", "out", "--model", "offline"], "empty.txt has no sentences"),
        (["--input", "absent.txt", "--out-dir", "out", "--model", "offline"], "cannot read absent.txt"),
        (["x", "--model", "offline", "-o", "missing/x.html"], "cannot write to missing: no such directory"),
        (["x", "--model", "offline", "-o", "x.txt"], "cannot tell what to write from 'x.txt': end the name with .html"),
        (["   ", "--model", "offline", "-o", "x.html"], "the sentence is empty"),
    ],
    ids=["empty-input", "absent-input", "unwritable-path", "unknown-format", "empty-sentence"],
)
def test_problems_are_one_clear_line_and_a_failing_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    assert main(args) == 1
    assert f"attnwidget: error: {message}" in capsys.readouterr().err
    assert not list(tmp_path.glob("x.*"))


def test_a_wrong_command_line_is_a_usage_error(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([])
    assert exit_.value.code == 2
    assert "give a sentence or --input FILE" in capsys.readouterr().err
