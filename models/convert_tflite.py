#!/usr/bin/env python3
"""Convert MediaPipe selfie-segmentation .tflite models to ONNX and check them.

Run by models/convert.sh inside its own virtual environment (tensorflow-cpu, tf2onnx, onnx, tflite,
onnxruntime, numpy, Pillow at the versions pinned there). Three subcommands:

  convert     X.tflite -> Y.onnx: run tf2onnx, then replace the MediaPipe custom op
              Convolution2DTransposeBias (which tf2onnx cannot convert) by an ONNX ConvTranspose built
              from the op's custom options and weights, move the graph to channels first and give the
              squeeze-and-excite Muls operands of one shape (for onnxruntime's blocked layout), and check
              the result (onnx.checker full check, strict shape inference, onnxruntime runs compared
              with tf2onnx's graph).
  check-tflite
              Rewrite the custom op in the .tflite as the builtin TRANSPOSE_CONV, run that with
              TensorFlow Lite and compare it with the ONNX model (an independent route to the same maths).
  compare     Compare two folders of ONNX models (the new conversion and the committed models) with
              onnxruntime on random inputs and on a test picture.

The .tflite models take float32 NHWC [1,H,W,3], RGB, pixel/255, and give [1,H,W,1], the person
probability. `convert` writes them channels first (`channels_first`): [1,3,H,W] in, [1,1,H,W] out; the
checks transpose the test inputs for it.
"""

import argparse
import hashlib
import os
import subprocess
import sys

import numpy as np

CUSTOM_OP = b"Convolution2DTransposeBias"

# TfLitePadding, the C enum that MediaPipe's custom op reads from its raw custom_options
# (struct TfLiteTransposeConvParams { TfLitePadding padding; int stride_width; int stride_height; }).
TFLITE_C_PADDING = {1: "SAME", 2: "VALID"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Reading the .tflite (with the `tflite` package, a plain flatbuffer reader)
# --------------------------------------------------------------------------------------------

def _opcode(model, op):
    code = model.OperatorCodes(op.OpcodeIndex())
    # Since schema v3a the real code lives in BuiltinCode(); old files only fill the deprecated byte.
    return max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), code.CustomCode()


def _const_tensor(model, subgraph, index):
    """Value of a constant tensor as float32, following one DEQUANTIZE (float16 -> float32) if needed."""
    import tflite

    tensor = subgraph.Tensors(index)
    shape = tuple(int(d) for d in tensor.ShapeAsNumpy())
    buf = model.Buffers(tensor.Buffer())
    if buf.DataLength() > 0:
        dtypes = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16}
        if tensor.Type() not in dtypes:
            raise SystemExit(f"tensor {tensor.Name()!r} has unexpected type {tensor.Type()}")
        data = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=dtypes[tensor.Type()])
        return data.reshape(shape).astype(np.float32)
    # No data: the tensor must be computed by a DEQUANTIZE of a constant.
    for i in range(subgraph.OperatorsLength()):
        op = subgraph.Operators(i)
        if index in list(op.OutputsAsNumpy()):
            code, _ = _opcode(model, op)
            if code != tflite.BuiltinOperator.DEQUANTIZE:
                raise SystemExit(f"tensor {tensor.Name()!r} is made by op {code}, not a constant")
            return _const_tensor(model, subgraph, int(op.InputsAsNumpy()[0])).reshape(shape)
    raise SystemExit(f"tensor {tensor.Name()!r} has no data and no producer")


def read_custom_ops(tflite_path):
    """Every Convolution2DTransposeBias op of the model, with its parameters and weights."""
    import tflite

    with open(tflite_path, "rb") as f:
        data = f.read()
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() != 1:
        raise SystemExit(f"{tflite_path}: expected 1 subgraph, found {model.SubgraphsLength()}")
    sg = model.Subgraphs(0)
    found = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code, custom = _opcode(model, op)
        if code != tflite.BuiltinOperator.CUSTOM:
            continue
        if custom != CUSTOM_OP:
            raise SystemExit(f"{tflite_path}: unknown custom op {custom!r}")
        ins = [int(t) for t in op.InputsAsNumpy()]
        outs = [int(t) for t in op.OutputsAsNumpy()]
        if len(ins) != 3 or len(outs) != 1:
            raise SystemExit(f"{CUSTOM_OP!r}: expected 3 inputs and 1 output, got {ins} {outs}")
        opts = op.CustomOptionsAsNumpy().tobytes()
        if len(opts) < 12:
            raise SystemExit(f"{CUSTOM_OP!r}: custom options too short: {opts!r}")
        padding, stride_w, stride_h = np.frombuffer(opts[:12], dtype="<i4").tolist()
        if padding not in TFLITE_C_PADDING:
            raise SystemExit(f"{CUSTOM_OP!r}: unknown padding {padding}")
        kernel = _const_tensor(model, sg, ins[1])  # OHWI
        bias = _const_tensor(model, sg, ins[2])
        found.append({
            "index": i,
            "input": sg.Tensors(ins[0]).Name().decode(),
            "output": sg.Tensors(outs[0]).Name().decode(),
            "input_shape": [int(d) for d in sg.Tensors(ins[0]).ShapeAsNumpy()],
            "output_shape": [int(d) for d in sg.Tensors(outs[0]).ShapeAsNumpy()],
            "tensor_ids": (ins, outs),
            "padding": TFLITE_C_PADDING[padding],
            "stride": (stride_h, stride_w),
            "kernel": kernel,
            "bias": bias,
        })
    return found


# --------------------------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------------------------

def run_tf2onnx(tflite_path, raw_path, opset, log_path):
    cmd = [sys.executable, "-m", "tf2onnx.convert", "--tflite", tflite_path, "--output", raw_path,
           "--opset", str(opset)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    with open(log_path, "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    with open(log_path) as log:
        text = log.read()
    if rc != 0 or not os.path.exists(raw_path):
        sys.stderr.write(text)
        raise SystemExit(f"tf2onnx failed (exit {rc}), log: {log_path}")
    unsupported = [line for line in text.splitlines() if "Unsupported ops" in line]
    return unsupported


def _pads(in_size, out_size, k, s, padding):
    """ConvTranspose pads (begin, end) that reproduce TFLite's transposed convolution padding."""
    full = (in_size - 1) * s + k
    if padding == "VALID":
        total = 0
    else:
        total = max(full - out_size, 0)
    begin = total // 2
    end = total - begin
    if full - begin - end != out_size:
        raise SystemExit(f"cannot reach output size {out_size} from {in_size} (k={k}, s={s}, {padding})")
    return begin, end


def fix_custom_op(model, op):
    """Replace the tf2onnx placeholder node of one custom op by Transpose->ConvTranspose->Transpose."""
    import onnx
    from onnx import helper, numpy_helper

    g = model.graph
    matches = [n for n in g.node if n.op_type.endswith(CUSTOM_OP.decode()) and op["output"] in n.output]
    if len(matches) != 1:
        raise SystemExit(f"expected one ONNX node for {op['output']}, found {len(matches)}")
    node = matches[0]
    pos = list(g.node).index(node)
    x_name, w_name, b_name = node.input
    out_name = node.output[0]

    # tf2onnx has already folded the DEQUANTIZE ops into initializers: check that they hold exactly the
    # weights read from the .tflite, then use our own copies.
    inits = {i.name: i for i in g.initializer}
    for name, want in ((w_name, op["kernel"]), (b_name, op["bias"])):
        if name in inits:
            got = numpy_helper.to_array(inits[name])
            if got.shape != want.shape or not np.array_equal(got, want):
                raise SystemExit(f"initializer {name} differs from the .tflite weights")
    kernel = op["kernel"]  # OHWI: [C_out, kH, kW, C_in]
    c_out, kh, kw, c_in = kernel.shape
    if op["bias"].shape != (c_out,):
        raise SystemExit(f"bias shape {op['bias'].shape} does not match {c_out} output channels")
    w_onnx = np.ascontiguousarray(kernel.transpose(3, 0, 1, 2))  # ONNX ConvTranspose: [C_in, C_out, kH, kW]

    (_, ih, iw, ic), (_, oh, ow, oc) = op["input_shape"], op["output_shape"]
    if ic != c_in or oc != c_out:
        raise SystemExit(f"channels do not match: input {ic} vs {c_in}, output {oc} vs {c_out}")
    sh, sw = op["stride"]
    ph = _pads(ih, oh, kh, sh, op["padding"])
    pw = _pads(iw, ow, kw, sw, op["padding"])

    base = out_name.replace(":", "_")
    new_w, new_b, nchw_out = base + "__W", base + "__B", base + "__nchw"
    g.initializer.extend([numpy_helper.from_array(w_onnx, new_w),
                          numpy_helper.from_array(op["bias"].astype(np.float32), new_b)])

    # tf2onnx keeps the graph NCHW and inserts a Transpose to NHWC in front of the op it could not convert;
    # if nothing else reads that Transpose, take its input instead of transposing back again.
    new_nodes = []
    producer = next((n for n in g.node if x_name in n.output), None)
    readers = [n for n in g.node if x_name in n.input]
    is_output = any(o.name == x_name for o in g.output)
    remove = [node]
    if (producer is not None and producer.op_type == "Transpose" and len(readers) == 1 and not is_output
            and list(helper.get_attribute_value(producer.attribute[0])) == [0, 2, 3, 1]):
        x_nchw = producer.input[0]
        remove.append(producer)
    else:
        x_nchw = base + "__input_nchw"
        new_nodes.append(helper.make_node("Transpose", [x_name], [x_nchw], name=base + "_to_NCHW",
                                          perm=[0, 3, 1, 2]))
    new_nodes.append(helper.make_node(
        "ConvTranspose", [x_nchw, new_w, new_b], [nchw_out], name=base + "_ConvTranspose",
        kernel_shape=[kh, kw], strides=[sh, sw], pads=[ph[0], pw[0], ph[1], pw[1]]))
    new_nodes.append(helper.make_node("Transpose", [nchw_out], [out_name], name=base + "_to_NHWC",
                                      perm=[0, 2, 3, 1]))
    for n in reversed(new_nodes):
        g.node.insert(pos, n)
    for n in remove:
        g.node.remove(n)
    return f"{out_name}: k={kh}x{kw} s={sh}x{sw} {op['padding']} pads h={ph} w={pw} W{list(w_onnx.shape)}"


def prune(model):
    """Drop initializers nobody reads and opset imports no node uses."""
    g = model.graph
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    domains = {n.domain for n in g.node}
    keep_ops = [o for o in model.opset_import if o.domain in ("", "ai.onnx") or o.domain in domains]
    del model.opset_import[:]
    model.opset_import.extend(keep_ops)


# --------------------------------------------------------------------------------------------
# Channels first from input to output
# --------------------------------------------------------------------------------------------

# How far the logits (before the final Sigmoid) of the rewritten graph may be from tf2onnx's (the
# probabilities: 1e-4, as `compare`): they add in another order (blocked kernels, GlobalAveragePool);
# measured 2026-12-06 on the picture, its variants and 6 random images: at most 4.3e-4 (probabilities
# 1.6e-5).
REWRITE_LOGIT_TOLERANCE = 2e-3
TO_NHWC = [0, 2, 3, 1]
TO_NCHW = [0, 3, 1, 2]
ELEMENTWISE_UNARY = {"HardSwish", "Relu", "Sigmoid"}
ELEMENTWISE_BINARY = {"Add", "Mul"}


def inferred_shapes(model):
    """Every tensor's shape (inputs, outputs and in between) by ONNX's strict shape inference."""
    from onnx import shape_inference

    g = shape_inference.infer_shapes(model, strict_mode=True).graph
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in list(g.value_info) + list(g.input) + list(g.output)}


def channels_first(model):
    """Rewrite the graph so that every tensor from input to output is NCHW, with no Transpose left.

    tf2onnx keeps convolutions NCHW but cannot move its layout Transposes through HardSwish or through
    the squeeze-and-excite blocks that MediaPipe builds partly in NHWC (a Reshape of the pooled channel
    vector, Mul; in the landscape model some pool with a ReduceMean over H and W): it leaves a
    Transpose pair around each. onnxruntime runs those Transposes and
    the layout reorders they force (about 10 % of a run on the CPU; one kernel each on a GPU). Here a
    tensor that is a Transpose to NHWC of an NCHW tensor S is kept as a *view* of S, and the ops that
    read views are rewritten on S: elementwise ops unchanged (their operands' broadcast permutes
    alike), ReduceMean over NHWC's H and W as GlobalAveragePool, a Reshape between a [1,1,1,C] view
    and [1,C,1,1] as S itself, and a Transpose back to NCHW as S. A view that anything else reads
    is made real with a Transpose (none is, in these models). The model's input becomes [N,C,H,W]
    and its output [N,1,H,W] (the same bytes as [N,H,W,1]); names stay. Returns how many Transposes
    were left, which the caller checks."""
    from onnx import helper, numpy_helper

    g = model.graph
    shapes = inferred_shapes(model)
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    if len(g.input) != 1 or len(g.output) != 1:
        raise SystemExit("channels_first: expected one input and one output")

    # The graph input becomes NCHW under its own name; what the nodes read is its NHWC view.
    inp = g.input[0]
    n, h, w, c = shapes[inp.name]
    nhwc_input = inp.name + "__nhwc"
    for node in g.node:
        for i, name in enumerate(node.input):
            if name == inp.name:
                node.input[i] = nhwc_input
    for dim, value in zip(inp.type.tensor_type.shape.dim, (n, c, h, w)):
        dim.dim_value = value

    shapes[nhwc_input] = [n, h, w, c]
    view = {nhwc_input: inp.name}  # NHWC tensor name -> the NCHW tensor it is a transpose of
    alias = {}  # tensor name -> the tensor that holds the same values
    nodes = []

    def nchw(name):
        return name + "__nchw"

    def real(name):
        name = alias.get(name, name)
        if name in view:  # a view read by an op that needs NHWC: make it real
            nodes.append(helper.make_node("Transpose", [view.pop(name)], [name], perm=TO_NHWC,
                                          name=name + "_to_NHWC"))
        return name

    for node in g.node:
        for i, name in enumerate(node.input):
            node.input[i] = alias.get(name, name)
        op = node.op_type
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins, out = list(node.input), node.output[0] if node.output else None
        if op == "Transpose" and list(attrs["perm"]) == TO_NHWC and ins[0] not in view:
            view[out] = ins[0]
            continue
        if op == "Transpose" and list(attrs["perm"]) == TO_NCHW and ins[0] in view:
            alias[out] = view[ins[0]]
            continue
        if node.domain == "" and ins and all(x in view for x in ins) and (
                op in ELEMENTWISE_UNARY and len(ins) == 1 or op in ELEMENTWISE_BINARY and len(ins) == 2):
            new = helper.make_node(op, [view[x] for x in ins], [nchw(out)], name=node.name)
            new.attribute.extend(node.attribute)
            nodes.append(new)
            view[out] = nchw(out)
            continue
        if (op == "ReduceMean" and len(ins) == 1 and ins[0] in view and attrs.get("keepdims", 1) == 1
                and sorted(attrs.get("axes", [])) == [1, 2]):
            nodes.append(helper.make_node("GlobalAveragePool", [view[ins[0]]], [nchw(out)], name=node.name))
            view[out] = nchw(out)
            continue
        if op == "Reshape" and len(ins) == 2 and ins[1] in consts:
            target = [int(d) for d in consts[ins[1]]]
            if ins[0] in view:
                _, vh, vw, vc = shapes[ins[0]]
                if (vh, vw) == (1, 1) and target == [1, vc, 1, 1]:
                    alias[out] = view[ins[0]]
                    continue
            elif shapes.get(ins[0]) == target:
                alias[out] = ins[0]
                continue
            elif (len(shapes.get(ins[0], [])) == 4 and shapes[ins[0]][2:] == [1, 1]
                    and target == [1, 1, 1, shapes[ins[0]][1]]):
                view[out] = ins[0]
                continue
        for i, name in enumerate(ins):
            node.input[i] = real(name)
        nodes.append(node)

    out = g.output[0]
    name = alias.get(out.name, out.name)
    if name not in view:
        raise SystemExit(f"channels_first: the output {out.name} is not channels-last at the end")
    src = view.pop(name)
    on, oh, ow, oc = shapes[out.name]
    # The NCHW tensor takes the output's name.
    for node in nodes:
        for i, o in enumerate(node.output):
            if o == src:
                node.output[i] = out.name
        for i, x in enumerate(node.input):
            if x == src:
                node.input[i] = out.name
    for dim, value in zip(out.type.tensor_type.shape.dim, (on, oc, oh, ow)):
        dim.dim_value = value
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    prune(model)
    return sum(1 for nd in g.node if nd.op_type == "Transpose")


def spread_channel_weights(model):
    """Give each squeeze-and-excite `Mul` two operands of one shape: the channel weights `[1,C,1,1]`
    are first spread over the feature map's H x W (`Resize`, nearest: plain copies, so the products
    are the same numbers). onnxruntime's blocked-layout (NCHWc) kernels run a `Mul` only when both
    operands have one shape; a broadcast one made it convert the feature map out of that layout and
    back for each of the ten blocks. Returns how many were rewritten."""
    from onnx import helper, numpy_helper

    g = model.graph
    shapes = inferred_shapes(model)
    nodes, count = [], 0
    for node in g.node:
        if node.op_type == "Mul" and len(node.input) == 2:
            x, w = (shapes.get(name) for name in node.input)
            if (x and w and len(x) == 4 and len(w) == 4 and w[1] == x[1] and w[2:] == [1, 1]
                    and x[2] > 0 and x[3] > 0 and x[2:] != [1, 1]):
                scales, spread = f"{node.name}__spread_scales", f"{node.name}__spread"
                g.initializer.append(numpy_helper.from_array(
                    np.array([1, 1, x[2], x[3]], np.float32), scales))
                nodes.append(helper.make_node(
                    "Resize", [node.input[1], "", scales], [spread], name=spread,
                    mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
                node.input[1] = spread
                count += 1
        nodes.append(node)
    del g.node[:]
    g.node.extend(nodes)
    return count


def in_input_layout(x, onnx_shape):
    """`x` (NHWC, as TensorFlow Lite and the test pictures have it) in the layout of an ONNX input of
    shape `onnx_shape`."""
    if list(onnx_shape) == list(x.shape):
        return x
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def nhwc_shape(shape):
    """The NHWC shape of a model input given as [N,H,W,3] or [N,3,H,W]."""
    return list(shape) if shape[-1] == 3 else [shape[0], shape[2], shape[3], shape[1]]


def as_nhwc(y):
    """A model output [N,1,H,W] or [N,H,W,1] as [N,H,W,1]."""
    return y.reshape(y.shape[0], y.shape[-2], y.shape[-1], 1) if y.ndim == 4 and y.shape[1] == 1 else y


def cmd_convert(a):
    import onnx
    import onnxruntime as ort

    os.makedirs(a.workdir, exist_ok=True)
    stem = os.path.splitext(os.path.basename(a.tflite))[0]
    raw = os.path.join(a.workdir, stem + ".raw.onnx")
    log = os.path.join(a.workdir, stem + ".tf2onnx.log")

    ops = read_custom_ops(a.tflite)
    print(f"[{stem}] custom ops in the .tflite: {len(ops)}")
    for op in ops:
        print(f"[{stem}]   {CUSTOM_OP.decode()} {op['input']}{op['input_shape']} -> "
              f"{op['output']}{op['output_shape']}: padding {op['padding']}, stride {op['stride']}, "
              f"kernel OHWI {list(op['kernel'].shape)}, bias {list(op['bias'].shape)}")

    unsupported = run_tf2onnx(a.tflite, raw, a.opset, log)
    print(f"[{stem}] tf2onnx: {unsupported[0].split(' - ')[-1] if unsupported else 'no unsupported ops'}")
    if unsupported and not all(CUSTOM_OP.decode() in line for line in unsupported):
        raise SystemExit(f"tf2onnx reports other unsupported ops: {unsupported}")

    model = onnx.load(raw)
    for op in ops:
        print(f"[{stem}] replaced by ConvTranspose: {fix_custom_op(model, op)}")
    leftovers = [n.op_type for n in model.graph.node if n.op_type.startswith("TFL_")]
    if leftovers:
        raise SystemExit(f"unconverted ops remain: {leftovers}")
    prune(model)
    channels_last = os.path.join(a.workdir, stem + ".channels_last.onnx")
    onnx.save(model, channels_last)
    left = channels_first(model)
    if left:
        raise SystemExit(f"[{stem}] {left} Transpose(s) left after moving the graph to channels first")
    spread = spread_channel_weights(model)
    print(f"[{stem}] channels first from input to output: {len(model.graph.node)} nodes, no Transpose; "
          f"{spread} channel weights spread to their feature map's size")
    model.producer_name = "tf2onnx+viba-convert_tflite"
    model.doc_string = f"{os.path.basename(a.tflite)} (sha256 {sha256(a.tflite)}) converted by models/convert.sh"
    onnx.checker.check_model(model, full_check=True)
    model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, a.output)

    sess = ort.InferenceSession(a.output, providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    y = sess.run(None, {inp.name: np.full(inp.shape, 0.5, np.float32)})[0]
    if y.shape != tuple(out.shape) or not (0.0 <= y.min() <= y.max() <= 1.0):
        raise SystemExit(f"[{stem}] onnxruntime gave shape {y.shape}, range [{y.min()}, {y.max()}]")
    # The rewrites change where the layout is changed and how a vector is broadcast, not the maths:
    # compare with the graph before them, on the picture and random images, logits included (the
    # probabilities saturate near 0 and 1, where they would hide a difference).
    before, before_names = with_logits(channels_last)
    after, after_names = with_logits(a.output)
    bi = before.get_inputs()[0]
    stats = Stats()
    cases = test_inputs(bi.shape, a.image, 6, 7)
    for _, x in cases:
        want = before.run(before_names, {bi.name: x})
        got = after.run(after_names, {inp.name: in_input_layout(x, inp.shape)})
        stats.add(as_nhwc(got[0]), want[0], as_nhwc(got[1]), want[1])
    if (stats.prob > 1e-4 or stats.logit is None or stats.logit > REWRITE_LOGIT_TOLERANCE
            or stats.disagree):
        raise SystemExit(f"[{stem}] the rewritten graph differs from tf2onnx's: {stats.line()}")
    print(f"[{stem}] rewritten vs tf2onnx's graph on {len(cases)} inputs: {stats.line()}")
    print(f"[{stem}] wrote {a.output}: input {inp.name} {inp.shape} {inp.type}, "
          f"output {out.name} {out.shape} {out.type}; onnxruntime runs it")


# --------------------------------------------------------------------------------------------
# Test inputs shared by check-tflite and compare
# --------------------------------------------------------------------------------------------

def load_picture(path, h, w):
    """The picture as the models want it: RGB, stretched to WxH (PIL bilinear), /255, NHWC."""
    from PIL import Image

    img = Image.open(path).convert("RGB").resize((w, h), Image.BILINEAR)
    return (np.asarray(img, dtype=np.float32) / 255.0)[None]


def test_inputs(shape, picture, n_random, seed):
    """(label, input) pairs: the picture, variants of it, smooth random images and pixel noise."""
    _, h, w, _ = shape
    rng = np.random.default_rng(seed)
    cases = []
    if picture:
        pic = load_picture(picture, h, w)
        cases += [("picture", pic), ("picture mirrored", pic[:, :, ::-1].copy()),
                  ("picture darker", pic * 0.6)]
    for i in range(n_random):
        if i % 2 == 0:
            # Smooth random image: coarse noise blown up, so that the model sees blob-like structure.
            from PIL import Image
            coarse = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
            img = Image.fromarray(coarse).resize((w, h), Image.BICUBIC)
            x = (np.asarray(img, dtype=np.float32) / 255.0)[None]
            cases.append((f"smooth random {i}", x))
        else:
            cases.append((f"uniform noise {i}", rng.random(shape, dtype=np.float32)))
    return cases


def with_logits(onnx_path):
    """Session returning (probability, logit): also expose the input of the final Sigmoid, which shows
    differences that saturated probabilities hide."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(onnx_path)
    out = model.graph.output[0].name
    sig = [n for n in model.graph.node if out in n.output]
    names = [out]
    if sig and sig[0].op_type == "Sigmoid":
        logit = sig[0].input[0]
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(logit))
        names.append(logit)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess, names


class Stats:
    def __init__(self):
        self.prob = 0.0
        self.logit = None
        self.disagree = 0
        self.pixels = 0

    def add(self, pa, pb, la=None, lb=None):
        self.prob = max(self.prob, float(np.abs(pa - pb).max()))
        if la is not None and lb is not None:
            self.logit = max(self.logit or 0.0, float(np.abs(la - lb).max()))
        self.disagree += int(((pa >= 0.5) != (pb >= 0.5)).sum())
        self.pixels += pa.size

    def line(self):
        logit = "" if self.logit is None else f", logit (before the sigmoid) {self.logit:.3g}"
        return (f"max |diff| probability {self.prob:.3g}{logit}; "
                f"pixels on different sides of 0.5: {self.disagree} of {self.pixels}")


# --------------------------------------------------------------------------------------------
# check-tflite
# --------------------------------------------------------------------------------------------

def rewrite_as_builtin(tflite_path, out_path):
    """Write a copy of the .tflite where Convolution2DTransposeBias is the builtin TRANSPOSE_CONV."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    ops = {op["index"]: op for op in read_custom_ops(tflite_path)}
    model = flatbuffer_utils.read_model(tflite_path)
    sg = model.subgraphs[0]
    code = schema.OperatorCodeT()
    code.builtinCode = schema.BuiltinOperator.TRANSPOSE_CONV
    code.deprecatedBuiltinCode = schema.BuiltinOperator.TRANSPOSE_CONV
    code.version = 3  # the version that accepts a bias input
    model.operatorCodes.append(code)
    code_index = len(model.operatorCodes) - 1
    for i, op in enumerate(sg.operators):
        if i not in ops:
            continue
        info = ops[i]
        ins, outs = info["tensor_ids"]
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.array(info["output_shape"], "<i4").tobytes(), np.uint8)
        model.buffers.append(buf)
        shape_t = schema.TensorT()
        shape_t.shape = [4]
        shape_t.type = schema.TensorType.INT32
        shape_t.buffer = len(model.buffers) - 1
        shape_t.name = (info["output"] + "/output_shape").encode()
        sg.tensors.append(shape_t)
        opts = schema.TransposeConvOptionsT()
        opts.padding = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}[info["padding"]]
        opts.strideH, opts.strideW = info["stride"]
        op.opcodeIndex = code_index
        op.inputs = [len(sg.tensors) - 1, ins[1], ins[0], ins[2]]  # output_shape, weights, input, bias
        op.builtinOptionsType = schema.BuiltinOptions.TransposeConvOptions
        op.builtinOptions = opts
        op.customOptions = None
    flatbuffer_utils.write_model(model, out_path)
    return len(ops)


def cmd_check_tflite(a):
    import warnings
    warnings.filterwarnings("ignore")
    import tensorflow as tf

    n = rewrite_as_builtin(a.tflite, a.rewritten)
    interp = tf.lite.Interpreter(model_path=a.rewritten, num_threads=1)
    interp.allocate_tensors()
    (tin,), (tout,) = interp.get_input_details(), interp.get_output_details()
    sess, names = with_logits(a.onnx)
    iname = sess.get_inputs()[0].name
    ishape = sess.get_inputs()[0].shape
    if nhwc_shape(ishape) != list(tin["shape"]):
        raise SystemExit(f"input shapes differ: tflite {tin['shape']} onnx {ishape}")
    stats = Stats()
    for _, x in test_inputs(list(tin["shape"]), a.image, a.random, a.seed):
        interp.set_tensor(tin["index"], x)
        interp.invoke()
        ref = interp.get_tensor(tout["index"])
        got = sess.run(names, {iname: in_input_layout(x, ishape)})
        stats.add(as_nhwc(got[0]), ref)
    stem = os.path.splitext(os.path.basename(a.tflite))[0]
    print(f"[{stem}] ONNX vs TensorFlow Lite {tf.__version__} running the .tflite with its {n} custom op(s) "
          f"rewritten as builtin TRANSPOSE_CONV: {stats.line()}")
    if stats.prob > a.tolerance:
        raise SystemExit(f"[{stem}] difference {stats.prob:.3g} exceeds tolerance {a.tolerance}")


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------

def cmd_compare(a):
    worst = 0.0
    for name in a.models:
        new_path, ref_path = os.path.join(a.new, name), os.path.join(a.ref, name)
        new, new_names = with_logits(new_path)
        ref, ref_names = with_logits(ref_path)
        ni, ri = new.get_inputs()[0], ref.get_inputs()[0]
        no, ro = new.get_outputs()[0], ref.get_outputs()[0]
        # The same tensors; the layout may differ (a committed model from before channels_first).
        if (ni.name, nhwc_shape(ni.shape), ni.type, no.name, no.type) != \
                (ri.name, nhwc_shape(ri.shape), ri.type, ro.name, ro.type):
            raise SystemExit(f"{name}: tensors differ: new {ni.name}{ni.shape} -> {no.name}{no.shape}, "
                             f"committed {ri.name}{ri.shape} -> {ro.name}{ro.shape}")
        total, pic = Stats(), Stats()
        for label, x in test_inputs(nhwc_shape(ni.shape), a.image, a.random, a.seed):
            got = [as_nhwc(y) for y in new.run(new_names, {ni.name: in_input_layout(x, ni.shape)})]
            want = [as_nhwc(y) for y in ref.run(ref_names, {ri.name: in_input_layout(x, ri.shape)})]
            lg = got[1] if len(got) > 1 else None
            lw = want[1] if len(want) > 1 else None
            total.add(got[0], want[0], lg, lw)
            if label == "picture":
                pic.add(got[0], want[0], lg, lw)
        worst = max(worst, total.prob)
        print(f"{name}: {ni.name}{ni.shape} -> {no.name}{no.shape}")
        print(f"  {os.path.basename(a.image)}: {pic.line()}")
        print(f"  all {3 + a.random} inputs: {total.line()}")
    status = "OK" if worst <= a.tolerance else "FAILED"
    print(f"new vs committed: worst max |diff| {worst:.3g} (tolerance {a.tolerance}): {status}")
    if worst > a.tolerance:
        raise SystemExit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="tf2onnx plus the custom-op fix")
    c.add_argument("tflite")
    c.add_argument("output")
    c.add_argument("--workdir", required=True, help="folder for the raw tf2onnx model and its log")
    c.add_argument("--opset", type=int, default=17)
    c.add_argument("--image", help="test picture for the rewrites' check (testdata/astronaut.png)")
    t = sub.add_parser("check-tflite", help="compare with TensorFlow Lite (custom op rewritten as builtin)")
    t.add_argument("tflite")
    t.add_argument("onnx")
    t.add_argument("--rewritten", required=True, help="where to write the rewritten .tflite")
    for s in (t, sub.add_parser("compare", help="compare new ONNX models with committed ones")):
        s.add_argument("--image", required=True, help="test picture (testdata/astronaut.png)")
        s.add_argument("--random", type=int, default=20, help="number of random inputs")
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--tolerance", type=float, default=1e-4)
    cmp_ = sub.choices["compare"]
    cmp_.add_argument("--new", required=True)
    cmp_.add_argument("--ref", required=True)
    cmp_.add_argument("models", nargs="+")
    a = p.parse_args()
    {"convert": cmd_convert, "check-tflite": cmd_check_tflite, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    main()
