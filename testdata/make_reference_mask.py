#!/usr/bin/env python3
"""Make testdata/astronaut_mask_256.png, the reference person mask for the segmenter's tests.

    python3 testdata/make_reference_mask.py models/selfie_segmentation.onnx testdata/astronaut.png \
        testdata/astronaut_mask_256.png [--preview preview.png]

Needs onnxruntime, numpy and Pillow (made with onnxruntime 1.31.1, numpy 2.4.6, Pillow 13.0.0; see
testdata/PROVENANCE.md). Steps, which a test in another language can repeat exactly:
  1. open the image, convert to RGB, resize to the model's input size (256x256 for the general model)
     with Pillow's bilinear filter (Image.BILINEAR);
  2. float32 [1,H,W,3] = pixel / 255 (NHWC; transposed to [1,3,H,W] for a model that takes NCHW, as the
     bundled models do since 2026-12-06);
  3. run the model with onnxruntime on the CPU (1 thread, default graph optimisations);
  4. mask = round(255 * output) as 8-bit grayscale (numpy rounds halves to even; output is in [0,1]).
Prints the fraction of mask pixels >= 128 (person).
"""

import argparse

import numpy as np
import onnxruntime as ort
from PIL import Image


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="ONNX model, float32 input NHWC or NCHW, [1,H,W,1] or [1,1,H,W] output in [0,1]")
    p.add_argument("image", help="input picture")
    p.add_argument("output", help="where to write the 8-bit grayscale mask PNG")
    p.add_argument("--preview", help="also write a picture with the mask over the input, for looking at")
    a = p.parse_args()

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(a.model, opts, providers=["CPUExecutionProvider"])
    (inp,), (out,) = sess.get_inputs(), sess.get_outputs()
    nchw = inp.shape[1] == 3
    _, h, w, c = (inp.shape[0], inp.shape[2], inp.shape[3], inp.shape[1]) if nchw else inp.shape
    if c != 3:
        raise SystemExit(f"{a.model}: expected an input with 3 channels, got {inp.shape}")

    img = Image.open(a.image).convert("RGB")
    small = img.resize((w, h), Image.BILINEAR)
    x = (np.asarray(small, dtype=np.float32) / 255.0)[None]
    y = sess.run([out.name], {inp.name: np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if nchw else x})[0]
    if y.shape not in ((1, h, w, 1), (1, 1, h, w)):
        raise SystemExit(f"{a.model}: unexpected output shape {y.shape}")
    prob = y.reshape(h, w)
    mask = np.round(255.0 * np.clip(prob, 0.0, 1.0)).astype(np.uint8)
    Image.fromarray(mask, mode="L").save(a.output, optimize=True)

    person = float((mask >= 128).mean())
    print(f"{a.output}: {w}x{h}, model {a.model} ({inp.name} {inp.shape} -> {out.name} {out.shape}), "
          f"input {a.image} {img.size[0]}x{img.size[1]} resized bilinear to {w}x{h}")
    print(f"fraction of pixels >= 128 (person): {person:.4f}; output min {prob.min():.4g} max {prob.max():.4g}; "
          f"pixels strictly between 10 and 245: {int(((mask > 10) & (mask < 245)).sum())}")

    if a.preview:
        # Left: the input; middle: the mask; right: the input with the backdrop tinted red.
        rgb = np.asarray(small, dtype=np.float32)
        m = (mask.astype(np.float32) / 255.0)[:, :, None]
        tinted = rgb * m + (0.35 * rgb + 0.65 * np.array([255.0, 0.0, 0.0])) * (1.0 - m)
        panel = np.concatenate([rgb, np.repeat(mask[:, :, None], 3, axis=2).astype(np.float32), tinted], axis=1)
        Image.fromarray(np.clip(panel, 0, 255).astype(np.uint8)).save(a.preview)
        print(f"preview: {a.preview}")


if __name__ == "__main__":
    main()
