#!/usr/bin/env python3
"""Compare the ONNX models with MediaPipe's own runtime (the legacy SelfieSegmentation solution).

A one-off check, not part of convert.sh, because mediapipe 0.10.21 wants numpy<2 and protobuf<5.
Set-up used (CPython 3.11, a venv outside the repo):

    python3 -m venv /tmp/viba-mp
    /tmp/viba-mp/bin/pip install --no-deps mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl
    /tmp/viba-mp/bin/pip install --only-binary=:all: "numpy<2" "protobuf>=4.25.3,<5" absl-py attrs \
        flatbuffers opencv-contrib-python-headless matplotlib onnxruntime==1.31.1 pillow
    /tmp/viba-mp/bin/python models/check_mediapipe.py models testdata/astronaut.png

Frames are given to MediaPipe at exactly the model's size (256x256, 256x144), so its own resize
(ImageToTensorCalculator) is the identity and both sides see the same pixels: uint8 RGB, /255 for ONNX.
"""

import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image


def frames(picture, w, h, rng):
    pic = np.asarray(Image.open(picture).convert("RGB").resize((w, h), Image.BILINEAR))
    out = [("picture", pic), ("picture mirrored", pic[:, ::-1].copy()),
           ("picture darker", (pic * 0.6).astype(np.uint8))]
    for i in range(6):
        coarse = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
        out.append((f"smooth random {i}", np.asarray(Image.fromarray(coarse).resize((w, h), Image.BICUBIC))))
    out.append(("uniform noise", (rng.random((h, w, 3)) * 255).astype(np.uint8)))
    return out


def main():
    from mediapipe.python.solutions import selfie_segmentation as mp_selfie

    models_dir, picture = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(3)
    worst = 0.0
    for selection, name in ((0, "selfie_segmentation.onnx"), (1, "selfie_segmentation_landscape.onnx")):
        sess = ort.InferenceSession(os.path.join(models_dir, name), providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        nchw = inp.shape[1] == 3  # the bundled models take [1,3,H,W] since 2026-12-06
        h, w = inp.shape[2:] if nchw else inp.shape[1:3]
        max_diff, disagree, total = 0.0, 0, 0
        for label, rgb in frames(picture, w, h, rng):
            # A fresh graph per frame: nothing carried over from the previous frame.
            with mp_selfie.SelfieSegmentation(model_selection=selection) as seg:
                ref = seg.process(rgb).segmentation_mask
            x = (rgb.astype(np.float32) / 255.0)[None]
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if nchw else x
            got = sess.run(None, {inp.name: x})[0].reshape(h, w)
            if ref.shape != got.shape:
                raise SystemExit(f"{name}: MediaPipe mask {ref.shape} vs ONNX {got.shape}")
            d = float(np.abs(ref - got).max())
            max_diff = max(max_diff, d)
            disagree += int(((ref >= 0.5) != (got >= 0.5)).sum())
            total += got.size
            print(f"  {name} {label}: max |diff| {d:.3g}, person fraction MediaPipe "
                  f"{(ref >= 0.5).mean():.4f} ONNX {(got >= 0.5).mean():.4f}")
        worst = max(worst, max_diff)
        print(f"{name} vs MediaPipe 0.10.21 (model_selection={selection}): max |diff| {max_diff:.3g}; "
              f"pixels on different sides of 0.5: {disagree} of {total}")
    print(f"worst max |diff| {worst:.3g}")


if __name__ == "__main__":
    main()
