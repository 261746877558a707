"""Makes the tiny ONNX models the bad-input tests use: valid ONNX files whose tensors viba
must refuse. Run: python make_bad_models.py (needs the `onnx` package; written with 1.23.2)."""
import onnx
from onnx import TensorProto, helper


def identity_model(path, in_shape, out_shape, dtype=TensorProto.FLOAT):
    inp = helper.make_tensor_value_info("x", dtype, in_shape)
    out = helper.make_tensor_value_info("y", dtype, out_shape)
    node = helper.make_node("Identity", ["x"], ["y"])
    graph = helper.make_graph([node], "bad", [inp], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


if __name__ == "__main__":
    # A flat vector input: not an image.
    identity_model("model_flat_input.onnx", [1, 10], [1, 10])
    # An image input with 4 channels.
    identity_model("model_rgba_input.onnx", [1, 64, 64, 4], [1, 64, 64, 4])
