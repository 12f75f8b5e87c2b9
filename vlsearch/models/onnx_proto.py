"""The few ONNX protobuf messages an encoder graph needs, written directly (no `onnx` package).

Importing `onnx` costs about a second and 17 MB in every process that embeds, only to serialize a
graph ONNX Runtime parses at once. The wire format is simple: each field is a key (field number
<< 3 | wire type) and a varint, a little-endian 32-bit float, or a length-prefixed payload. Field
numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto); repeated scalars are written
unpacked, which every protobuf parser reads. Messages are kept as lists of chunks, so weight
arrays are copied once, when the model is joined. tests/models/test_onnx_proto.py parses the
output with the `onnx` package and checks it against its own builder.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

_VARINT, _LEN, _FIXED32 = 0, 2, 5
# TensorProto.DataType
_DTYPES = {np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int32): 6, np.dtype(np.int64): 7}
FLOAT = 1
# AttributeProto.AttributeType
_ATTR_FLOAT, _ATTR_INT, _ATTR_INTS = 1, 2, 7

Attr = int | float | Sequence[int]


class Message:
    """Encoded fields as chunks (bytes or buffers of arrays), with their total length."""

    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes | memoryview] = []
        self.size = 0

    def _put(self, chunk: bytes | memoryview) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)

    def varint(self, field: int, value: int) -> Message:
        self._put(_key(field, _VARINT) + _varint(value))
        return self

    def fixed32(self, field: int, value: float) -> Message:
        self._put(_key(field, _FIXED32) + struct.pack("<f", value))
        return self

    def bytes_(self, field: int, data: bytes | memoryview) -> Message:
        self._put(_key(field, _LEN) + _varint(len(data)))
        self._put(data)
        return self

    def string(self, field: int, text: str) -> Message:
        return self.bytes_(field, text.encode("utf-8"))

    def message(self, field: int, sub: Message) -> Message:
        self._put(_key(field, _LEN) + _varint(sub.size))
        self.chunks.extend(sub.chunks)
        self.size += sub.size
        return self

    def join(self) -> bytes:
        return b"".join(self.chunks)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64: two's complement, ten bytes
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def tensor(name: str, array: np.ndarray) -> Message:
    """TensorProto with raw little-endian data (the array's buffer, not copied here)."""
    data = np.ascontiguousarray(array)
    dtype = data.dtype.newbyteorder("<") if data.dtype.byteorder == ">" else data.dtype
    msg = Message()
    for d in data.shape:
        msg.varint(1, int(d))  # dims
    msg.varint(2, _DTYPES[np.dtype(dtype)])  # data_type
    msg.string(8, name)
    msg.bytes_(9, data.reshape(-1).view(np.uint8).data)  # raw_data
    return msg


def node(
    op_type: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    *,
    name: str,
    domain: str,
    attrs: Mapping[str, Attr],
) -> Message:
    msg = Message()
    for i in inputs:
        msg.string(1, i)
    for o in outputs:
        msg.string(2, o)
    msg.string(3, name)
    msg.string(4, op_type)
    for key, value in sorted(attrs.items()):  # by name, as onnx.helper writes them
        msg.message(5, _attribute(key, value))
    if domain:
        msg.string(7, domain)
    return msg


def _attribute(name: str, value: Attr) -> Message:
    msg = Message().string(1, name)
    if isinstance(value, bool):
        raise TypeError(f"attribute {name}: booleans are not ONNX attributes")
    if isinstance(value, int):
        return msg.varint(3, value).varint(20, _ATTR_INT)
    if isinstance(value, float):
        return msg.fixed32(2, value).varint(20, _ATTR_FLOAT)
    for v in value:
        msg.varint(8, int(v))
    return msg.varint(20, _ATTR_INTS)


def value_info(name: str, elem_type: int, dims: Iterable[int | str]) -> Message:
    shape = Message()
    for d in dims:
        dim = Message().string(2, d) if isinstance(d, str) else Message().varint(1, d)
        shape.message(1, dim)
    tensor_type = Message().varint(1, elem_type).message(2, shape)
    return Message().string(1, name).message(2, Message().message(1, tensor_type))


def model(
    *,
    name: str,
    nodes: Sequence[Message],
    initializers: Sequence[Message],
    inputs: Sequence[Message],
    outputs: Sequence[Message],
    opsets: Mapping[str, int],
    ir_version: int,
) -> bytes:
    graph = Message()
    for n in nodes:
        graph.message(1, n)
    graph.string(2, name)
    for t in initializers:
        graph.message(5, t)
    for i in inputs:
        graph.message(11, i)
    for o in outputs:
        graph.message(12, o)
    out = Message().varint(1, ir_version)
    out.string(2, "vlsearch")  # producer_name
    out.message(7, graph)
    for domain, version in opsets.items():
        opset = Message()
        if domain:
            opset.string(1, domain)
        out.message(8, opset.varint(2, version))
    return out.join()
