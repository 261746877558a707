#!/usr/bin/env python3
"""Generate backgrounds/default.jpg: a calm, out-of-focus "room" in soft blue-grey, 1280x720.

    python3 backgrounds/make_default.py [output.jpg]      (default: default.jpg next to this script)

Procedural (numpy + Pillow, fixed seed), no borrowed imagery: a vertical blue-grey gradient (the wall),
a darker band at the bottom (a desk or floor), a bright window glow on the left, two soft panels, a plant, a warm
lamp glow on the right, a few bokeh discs, all blurred as if far behind a sharp subject; then a vignette
and a little noise against banding. The middle stays quiet, where the person will be.
"""

import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 1280, 720
SEED = 20261127
QUALITY = 88


def soft_mask(draw_fn, blur):
    """A float mask in [0,1] drawn with Pillow at full size, then Gaussian-blurred."""
    img = Image.new("L", (W, H), 0)
    draw_fn(ImageDraw.Draw(img))
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(img, dtype=np.float32)[:, :, None] / 255.0


def blend(canvas, mask, color, strength):
    color = np.array(color, dtype=np.float32)
    a = np.clip(mask * strength, 0.0, 1.0)
    return canvas * (1.0 - a) + color * a


def screen(canvas, mask, color, strength):
    """Add light: 'screen' mode, which brightens without clipping harshly."""
    light = np.array(color, dtype=np.float32) / 255.0 * np.clip(mask * strength, 0.0, 1.0)
    c = canvas / 255.0
    return (1.0 - (1.0 - c) * (1.0 - light)) * 255.0


def make(seed=SEED):
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :, None]

    # Wall: lighter blue-grey at the top, deeper towards the bottom, slightly warmer to the right.
    top = np.array([178, 192, 208], np.float32)
    bottom = np.array([108, 122, 144], np.float32)
    canvas = top * (1.0 - y) + bottom * y
    canvas = canvas + (x - 0.5) * np.array([6, 2, -6], np.float32)
    canvas = np.broadcast_to(canvas, (H, W, 3)).copy()

    # Window on the left: a bright, cool glow with a faint cross of mullions.
    window = soft_mask(lambda d: d.rounded_rectangle([40, 70, 330, 470], radius=18, fill=255), 55)
    canvas = screen(canvas, window, (230, 240, 252), 0.9)
    mullions = soft_mask(lambda d: (d.rectangle([178, 70, 192, 470], fill=255),
                                    d.rectangle([40, 262, 330, 276], fill=255)), 14)
    canvas = blend(canvas, mullions * window, (170, 182, 198), 0.35)

    # Two tall, darker panels (a bookcase, a door) and a cabinet, all far out of focus.
    panels = soft_mask(lambda d: (d.rectangle([930, 40, 1110, 600], fill=255),
                                  d.rectangle([1150, 120, 1280, 620], fill=150)), 45)
    canvas = blend(canvas, panels, (66, 78, 100), 0.65)
    shelf = soft_mask(lambda d: (d.rectangle([945, 230, 1095, 250], fill=255),
                                 d.rectangle([945, 400, 1095, 420], fill=255)), 16)
    canvas = blend(canvas, shelf * panels, (150, 140, 128), 0.45)

    # A plant in a corner: a dark sage-green blob on a thin stem of shadow.
    plant = soft_mask(lambda d: (d.ellipse([760, 330, 900, 520], fill=255),
                                 d.rectangle([815, 500, 845, 600], fill=200)), 28)
    canvas = blend(canvas, plant, (78, 100, 86), 0.55)

    # Desk or floor: a darker, slightly warm band at the bottom.
    floor = soft_mask(lambda d: d.rectangle([0, 585, W, H], fill=255), 30)
    canvas = blend(canvas, floor, (74, 72, 80), 0.7)

    # A warm lamp glow on the right, between the window and the panels.
    lamp = soft_mask(lambda d: d.ellipse([1000, 300, 1200, 500], fill=255), 70)
    canvas = screen(canvas, lamp, (255, 200, 140), 0.9)

    # Bokeh: soft discs of light, mostly near the window and the lamp, none in the middle.
    for _ in range(14):
        side = rng.random() < 0.55
        cx = rng.uniform(40, 420) if side else rng.uniform(860, 1240)
        cy = rng.uniform(60, 560)
        r = rng.uniform(14, 46)
        warm = rng.random() < 0.45 and not side
        color = (255, 226, 186) if warm else (232, 240, 252)
        disc = soft_mask(lambda d: d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255), r * 0.25)
        canvas = screen(canvas, disc, color, rng.uniform(0.18, 0.38))

    # Vignette, then a little noise so that the JPEG shows no banding in the smooth gradients.
    d2 = ((x - 0.5) / 0.75) ** 2 + ((y - 0.48) / 0.85) ** 2
    canvas = canvas * (1.0 - 0.22 * np.clip(d2, 0.0, 1.0))
    canvas = canvas + rng.normal(0.0, 1.4, size=(H, W, 1)).astype(np.float32)
    return Image.fromarray(np.clip(np.round(canvas), 0, 255).astype(np.uint8), "RGB")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "default.jpg")
    img = make()
    img.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=False, subsampling="4:2:0")
    print(f"{out}: {img.size[0]}x{img.size[1]}, JPEG quality {QUALITY}, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
