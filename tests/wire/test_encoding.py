"""Arrays to binary buffers and attention to 8-bit codes: exact round trips, stated error bounds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from attnwidget.core.stack import Extraction
from attnwidget.sources.forward import extract
from attnwidget.sources.models import LoadedModel
from attnwidget.sources.tensors import extraction_from_tensors
from attnwidget.wire.encoding import (
    BROWSER_DTYPES,
    decode_array,
    dequantize_rows,
    encode_array,
    max_quantization_error,
    quantize_rows,
    row_scales,
)
from attnwidget.wire.payload import EncodedExtraction, payload_bytes


@pytest.fixture(scope="module")
def real(offline: LoadedModel) -> Extraction:
    return extract(offline, "He went to the bank to deposit money, then walked along the river bank.")


# ---- encode_array / decode_array --------------------------------------------------------------


@pytest.mark.parametrize("dtype", BROWSER_DTYPES)
def test_every_browser_dtype_round_trips_exactly(dtype: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) * 7 % 251).astype(dtype)
    encoded = encode_array(array)
    assert encoded["dtype"] == dtype and encoded["shape"] == [2, 3, 4]
    assert encoded["buffer"].nbytes == array.nbytes
    assert np.array_equal(decode_array(encoded), array)


def test_a_contiguous_array_is_sent_without_a_copy() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.shares_memory(np.frombuffer(encode_array(array)["buffer"], dtype=np.float32), array)


def test_a_non_contiguous_view_round_trips() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4).T
    assert np.array_equal(decode_array(encode_array(array)), array)


def test_big_endian_data_is_sent_little_endian() -> None:
    array = np.arange(6, dtype=">f4").reshape(2, 3)
    encoded = encode_array(array)
    assert encoded["dtype"] == "float32"
    assert np.array_equal(decode_array(encoded), array)


@pytest.mark.parametrize("dtype", ["int64", "float16", "bool"])
def test_dtypes_the_browser_cannot_read_are_refused(dtype: str) -> None:
    with pytest.raises(ValueError, match=f"cannot send dtype {dtype} to the browser"):
        encode_array(np.zeros(3, dtype=dtype))


# ---- 8-bit codes with one scale per row -------------------------------------------------------


def test_quantization_error_is_within_row_max_over_510_on_real_attention(real: Extraction) -> None:
    attention = real.main.attention
    scales = row_scales(attention)
    restored = dequantize_rows(quantize_rows(attention, scales), scales)
    error = np.abs(restored - attention)
    # A hair of float32 rounding on top of the bound itself.
    assert (error <= max_quantization_error(scales)[..., None] + 1e-7).all()
    assert error.max() <= 1 / 510 + 1e-7


def test_each_rows_largest_weight_gets_the_top_code(real: Extraction) -> None:
    attention = real.main.attention
    codes = quantize_rows(attention, row_scales(attention))
    assert codes.dtype == np.uint8
    assert (codes.max(axis=-1) == 255).all()


def test_diffuse_rows_keep_their_detail(real: Extraction) -> None:
    """Per-row scales: a row whose weights are all small still uses the full range of codes."""
    attention = real.main.attention
    flattest = np.unravel_index(row_scales(attention).argmin(), attention.shape[:-1])
    codes = quantize_rows(attention[flattest], row_scales(attention)[flattest])
    assert len(np.unique(codes)) > 5


def test_all_zero_rows_do_not_divide_by_zero() -> None:
    attention = np.zeros((1, 2, 3, 4), dtype=np.float32)
    attention[0, 0, 0] = [0.25, 0.25, 0.25, 0.25]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a division by zero would warn
        with np.errstate(all="raise"):
            scales = row_scales(attention)
            codes = quantize_rows(attention, scales)
            restored = dequantize_rows(codes, scales)
    assert np.isfinite(restored).all()
    assert (codes[0, 1] == 0).all() and (restored[0, 1] == 0).all()
    assert np.allclose(restored[0, 0, 0], 0.25)


def test_a_stack_without_columns_has_zero_scales() -> None:
    assert row_scales(np.zeros((1, 1, 3, 0), dtype=np.float32)).shape == (1, 1, 3)


# ---- the payload the page reads -----------------------------------------------------------------


def test_a_layer_message_decodes_to_that_layers_codes(real: Extraction) -> None:
    encoded = EncodedExtraction(real, version=7)
    stack = real.main
    ((content, buffers),) = encoded.layer_messages("self", 3)
    assert {key: content[key] for key in ("type", "version", "stack", "layer", "start", "stop")} == {
        "type": "layer",
        "version": 7,
        "stack": "self",
        "layer": 3,
        "start": 0,
        "stop": stack.n_heads * len(stack.row_tokens),
    }
    codes = decode_array({"dtype": content["dtype"], "shape": content["shape"], "buffer": buffers[0]})
    assert codes.shape == (stack.n_heads, len(stack.row_tokens), len(stack.col_tokens))
    assert codes.dtype == np.uint8
    scales = encoded.scales["self"][3]
    assert np.array_equal(np.frombuffer(buffers[1], dtype="<f4"), scales.reshape(-1))
    error = np.abs(dequantize_rows(codes, scales) - stack.attention[3])
    assert (error <= max_quantization_error(scales)[..., None] + 1e-7).all()


def test_a_large_layer_is_split_into_messages_under_the_limit_that_reassemble_exactly() -> None:
    rng = np.random.default_rng(3)
    attention = rng.random((1, 3, 50, 50), dtype=np.float32)
    attention /= attention.sum(axis=-1, keepdims=True)
    encoded = EncodedExtraction(extraction_from_tensors(attention, [str(i) for i in range(50)]), version=1)
    messages = list(encoded.layer_messages("self", 0, max_bytes=1000))  # 18 rows of 54 bytes per message
    assert len(messages) == -(-150 // 18)
    codes = np.zeros((150, 50), dtype=np.uint8)
    scales = np.zeros(150, dtype=np.float32)
    for content, buffers in messages:
        assert sum(memoryview(buffer).nbytes for buffer in buffers) <= 1000
        codes[content["start"] : content["stop"]] = np.frombuffer(buffers[0], dtype=np.uint8).reshape(-1, 50)
        scales[content["start"] : content["stop"]] = np.frombuffer(buffers[1], dtype="<f4")
    assert [content["start"] for content, _ in messages] == list(range(0, 150, 18))
    assert np.array_equal(codes.reshape(3, 50, 50), encoded.quantized_layer("self", 0))
    assert np.array_equal(scales, attention[0].max(axis=-1).reshape(-1))


def test_every_value_reads_back_within_row_max_over_510_exactly() -> None:
    """The documented bound, checked in float64 as the page computes, on 12.6 million values."""
    rng = np.random.default_rng(11)
    for skew in (1, 4, 12):
        values = rng.random((12, 512, 512), dtype=np.float32) ** skew
        values /= values.sum(axis=-1, keepdims=True)
        scales = row_scales(values)
        codes = quantize_rows(values, scales)
        read_back = codes * (scales.astype(np.float64) / 255)[..., None]  # code * (scale / 255), like the page
        error = np.abs(values.astype(np.float64) - read_back)
        assert (error <= scales.astype(np.float64)[..., None] / 510).all()


def test_small_payload_carries_every_layer_and_the_row_scales(real: Extraction) -> None:
    payload = EncodedExtraction(real, version=1).payload(None)
    stack_payload = payload["stacks"]["self"]
    stack = real.main
    assert sorted(stack_payload["layers"], key=int) == [str(layer) for layer in range(stack.n_layers)]
    row_scale = decode_array(stack_payload["row_scale"])
    assert row_scale.shape == (stack.n_layers, stack.n_heads, len(stack.row_tokens))
    assert np.array_equal(row_scale, stack.attention.max(axis=-1))
    assert decode_array(stack_payload["layers"]["2"]).shape == stack.attention.shape[1:]
    assert stack_payload["rows"][0] == "[CLS]" and stack_payload["row_special"][0] is True


def test_a_streamed_payload_carries_only_the_layers_asked_for(real: Extraction) -> None:
    payload = EncodedExtraction(real, version=1).payload({"self": [4]})
    assert list(payload["stacks"]["self"]["layers"]) == ["4"]


def test_cross_attention_payload_has_row_and_column_labels_of_its_own() -> None:
    attention = np.full((1, 1, 2, 3), 1 / 3, dtype=np.float32)
    columns = ["Ġthe", "Ġbank", "</s>"]
    extraction = extraction_from_tensors(attention, ["▁Das", "▁Haus"], col_tokens=columns, name="cross")
    stack_payload = EncodedExtraction(extraction, version=1).payload(None)["stacks"]["cross"]
    assert stack_payload["rows"] == [" Das", " Haus"] and stack_payload["cols"] == [" the", " bank", "</s>"]
    assert stack_payload["col_special"] == [False, False, True]
    assert decode_array(stack_payload["layers"]["0"]).shape == (1, 2, 3)


def test_a_streamed_state_holds_the_shown_layer_then_as_many_following_layers_as_fit_in_1_mib() -> None:
    attention = np.full((6, 2, 300, 300), 1 / 300, dtype=np.float32)  # 180 kB of codes per layer
    encoded = EncodedExtraction(extraction_from_tensors(attention, ["t"] * 300), version=1)
    payload = encoded.state_payload("self", 4, stream=True)
    assert list(payload["stacks"]["self"]["layers"]) == ["4", "5", "0", "1", "2"]
    assert payload_bytes(payload) <= 2**20
    assert len(encoded.state_payload("self", 4, stream=False)["stacks"]["self"]["layers"]) == 6
