#!/usr/bin/env python3
"""An independent measurement of a 358x441 card photo, with OpenCV (not the app's code).

    measure.py FILE...            one JSON object per file on standard output
    import measure; measure.measure_file(path) -> dict

What it measures, in the 358x441 image (see README.md for the calibration):

* face: OpenCV's Haar cascade (frontalface_alt2, then _default), the largest box.
* face width, cheek to cheek: a Haar box is not cheek to cheek (it runs about from temple
  to temple, and its width is quantised by the cascade's scale steps), and the distance
  between the eyes varies between faces too; each was calibrated against the cheek width
  read by hand on the four source faces, and the mean of the two estimates is used (within
  4% on those faces; either alone is off by up to 7.5%). See FACE_RATIO, EYES_RATIO.
* eyes: Haar eye cascades (eye, eye_tree_eyeglasses) in the upper face, on a copy made
  large enough, the best left/right pair; their midpoint x, the eye line y and the tilt.
  When no pair is found, the box's proportions (EYE_FROM_BOX).
* hair top: the background colour from the two top corners; going down from the top row,
  inside the face's horizontal span, the first of 2 rows running where more than 4% of the
  pixels differ clearly from the background.
* background: the mean colour of the top corners and of the strips beside the head; white
  when every channel is at least 210 and they differ by less than 25.

Each measure is checked against the national bands with a tolerance for this detector's
own error (TOLERANCE): a value outside the band by less than the tolerance is `unsure`, not
a failure. The raw numbers are in the output.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import threading

import cv2
import numpy as np

CARD_W, CARD_H = 358, 441

# The national bands (in the 358x441 image).
FACE_WIDTH = (179.0, 255.0)
HAIR_TOP = (7.0, 21.0)
EYE_MID_X = (162.0, 196.0)
EYE_Y_MAX = CARD_H - 207.0  # the eye line at least 207 px above the bottom edge
MAX_TILT = 8.0

# This detector's error, from the calibration on the source faces and on the studio cards
# whose geometry is known exactly (README.md, "Calibration").
TOLERANCE = {
    "face_width": 0.06,  # relative: the calibration's spread (4%) and the box's steps
    "eye_mid_x": 5.0,  # px: Haar eye boxes centre on the eye within about 3 px
    "eye_y": 6.0,  # px
    "hair_top": 4.0,  # px: JPEG ringing and soft hair edges
    "tilt": 2.0,  # degrees
}

# Cheek-to-cheek width over the Haar alt2 box's width, and over the distance between the
# eyes' centres, read by hand on the four source faces (sources.py):
#   box:  0.947 astronaut, 0.842 Hopper, 0.854 Obama, 0.881 Biden   -> mean 0.881
#   eyes: 1.98 astronaut,  2.17 Hopper,  2.38 Obama,  2.40 Biden     -> mean 2.23
# The face width is the mean of the two estimates: off by +2.9%, +3.8%, -1.6% and -3.5% on
# the four faces (either alone is off by up to 7.5%). Without an eye pair, the box alone.
FACE_RATIO = 0.881
EYES_RATIO = 2.23
# Where the eyes are in a Haar alt2 box (fraction of its width and height), from the same
# four faces: the fallback when the eye cascades find no pair.
EYE_FROM_BOX = (0.30, 0.70, 0.385)

WHITE_MIN = 210.0
WHITE_TINT = 25.0

# One set of classifiers a thread: a CascadeClassifier is not safe to share between
# threads (run.py --jobs measured in parallel crashed the interpreter now and then).
_local = threading.local()


def cascade(name: str) -> cv2.CascadeClassifier:
    cascades = getattr(_local, "cascades", None)
    if cascades is None:
        cascades = _local.cascades = {}
    if name not in cascades:
        c = cv2.CascadeClassifier(cv2.data.haarcascades + name)
        if c.empty():
            raise RuntimeError(f"cannot load {name} from {cv2.data.haarcascades}")
        cascades[name] = c
    return cascades[name]


def detect_faces(grey: np.ndarray, min_frac: float = 0.2) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h), largest first; alt2, then default when alt2 finds none."""
    h, w = grey.shape
    eq = cv2.equalizeHist(grey)
    least = max(24, int(min_frac * min(w, h)))
    for name, neighbours in (("haarcascade_frontalface_alt2.xml", 4),
                             ("haarcascade_frontalface_default.xml", 6)):
        found = cascade(name).detectMultiScale(
            eq, scaleFactor=1.05, minNeighbors=neighbours, minSize=(least, least))
        boxes = [tuple(int(v) for v in b) for b in found]
        if boxes:
            # Overlapping boxes (one face found twice) keep the larger.
            boxes.sort(key=lambda b: -b[2] * b[3])
            kept: list[tuple[int, int, int, int]] = []
            for b in boxes:
                if all(_overlap(b, k) < 0.3 for k in kept):
                    kept.append(b)
            return kept
    return []


def _overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    return ix * iy / float(min(aw * ah, bw * bh))


def find_eyes(grey: np.ndarray, box) -> tuple[tuple[float, float], tuple[float, float], bool]:
    """The eyes (left of the image first) in a face box, and whether they were found: the
    eye cascades on the upper face scaled so that the box is 180 px wide (then 120, 240),
    the best left/right pair."""
    x, y, w, h = box
    y0, y1 = max(0, y + int(0.15 * h)), y + int(0.62 * h)
    roi = grey[y0:y1, max(0, x):x + w]
    if roi.size == 0:
        return _eyes_from_box(box) + (False,)
    mid = x + w / 2
    for target in (180, 120, 240):
        k = target / float(roi.shape[1])
        big = cv2.resize(roi, None, fx=k, fy=k,
                         interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
        cands = []
        for name in ("haarcascade_eye.xml", "haarcascade_eye_tree_eyeglasses.xml"):
            least = int(0.1 * target)
            for (ex, ey, ew, eh) in cascade(name).detectMultiScale(
                    big, scaleFactor=1.05, minNeighbors=2, minSize=(least, least)):
                cands.append((max(0, x) + (ex + ew / 2) / k, y0 + (ey + eh / 2) / k, ew / k))
        best = None
        for a in cands:
            for b in cands:
                if not (a[0] < mid < b[0]):
                    continue
                dx, dy = b[0] - a[0], b[1] - a[1]
                if not (0.25 * w <= dx <= 0.62 * w) or abs(dy) > 0.25 * dx:
                    continue
                # Level, evenly sized, placed symmetrically about the box's middle.
                score = (abs(dy) / dx + abs(a[2] - b[2]) / w
                         + abs((a[0] + b[0]) / 2 - mid) / w)
                if best is None or score < best[0]:
                    best = (score, a, b)
        if best is not None:
            _, a, b = best
            return (a[0], a[1]), (b[0], b[1]), True
    return _eyes_from_box(box) + (False,)


def _eyes_from_box(box):
    x, y, w, h = box
    lx, rx, fy = EYE_FROM_BOX
    return (x + lx * w, y + fy * h), (x + rx * w, y + fy * h)


def hair_top(rgb: np.ndarray, box) -> tuple[float | None, list[float], float]:
    """Rows of background above the hair (0 when the head touches the top edge), the
    background colour and its noise, from the top corners."""
    H, W, _ = rgb.shape
    x, y, w, h = box
    c = max(8, W // 12)
    corners = np.concatenate([rgb[:c, :c].reshape(-1, 3), rgb[:c, W - c:].reshape(-1, 3)])
    bg = np.median(corners, axis=0).astype(np.float32)
    noise = float(np.std(corners.astype(np.float32) - bg))
    thr = max(22.0, 5.0 * noise)
    x0, x1 = max(0, x), min(W, x + w)
    band = rgb[:, x0:x1].astype(np.float32)
    diff = np.abs(band - bg).max(axis=2)
    head_rows = (diff > thr).mean(axis=1) > 0.04
    limit = min(H, y + h // 2)
    for yy in range(0, limit - 1):
        if head_rows[yy] and head_rows[yy + 1]:
            return float(yy), bg.tolist(), noise
    return None, bg.tolist(), noise


def background(rgb: np.ndarray, box) -> dict:
    """The backdrop: top corners and the strips beside the head, above the eyes."""
    H, W, _ = rgb.shape
    x, y, w, h = box
    c = max(8, W // 12)
    parts = [rgb[:c, :c].reshape(-1, 3), rgb[:c, W - c:].reshape(-1, 3)]
    left = max(0, x - int(0.35 * w))
    right = min(W, x + w + int(0.35 * w))
    band_bottom = max(c, y + int(0.3 * h))
    if left > 4:
        parts.append(rgb[:band_bottom, : left - 2].reshape(-1, 3))
    if W - right > 4:
        parts.append(rgb[:band_bottom, right + 2:].reshape(-1, 3))
    px = np.concatenate(parts).astype(np.float32)
    mean = px.mean(axis=0)
    spread = float(np.std(px @ np.array([0.299, 0.587, 0.114], np.float32)))
    white = bool(mean.min() >= WHITE_MIN and mean.max() - mean.min() < WHITE_TINT)
    return {"rgb": [round(float(v), 1) for v in mean], "spread": round(spread, 2), "white": white}


def _band(value: float | None, lo: float, hi: float, tol: float) -> str:
    if value is None:
        return "unmeasured"
    if lo <= value <= hi:
        return "pass"
    if lo - tol <= value <= hi + tol:
        return "unsure"
    return "fail"


def measure_rgb(rgb: np.ndarray) -> dict:
    """Measure an RGB array (any size; the bands apply to 358x441)."""
    H, W, _ = rgb.shape
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    out: dict = {"width": W, "height": H}
    faces = detect_faces(grey, 0.2)
    out["faces"] = len(faces)
    if not faces:
        out["verdict"] = "no_face"
        out["checks"] = {}
        return out
    box = faces[0]
    out["face_box"] = list(box)
    le, re_, eyes_found = find_eyes(grey, box)
    ex, ey = (le[0] + re_[0]) / 2, (le[1] + re_[1]) / 2
    tilt = math.degrees(math.atan2(re_[1] - le[1], re_[0] - le[0]))
    # Cheek to cheek from the two estimates calibrated on the source faces: the Haar box's
    # width and the distance between the eyes (their mean errs less than either alone).
    eye_dist = math.hypot(re_[0] - le[0], re_[1] - le[1])
    by_box = FACE_RATIO * box[2]
    by_eyes = EYES_RATIO * eye_dist if eyes_found else None
    cw = (by_box + by_eyes) / 2 if by_eyes else by_box
    width_source = "box+eyes" if by_eyes else "box"
    top, bg_rgb, noise = hair_top(rgb, box)
    bgd = background(rgb, box)
    out.update({
        "face_width": round(cw, 1),
        "face_width_source": width_source,
        "haar_width": box[2],
        "face_width_by_box": round(by_box, 1),
        "face_width_by_eyes": round(by_eyes, 1) if by_eyes else None,
        "eyes_found": eyes_found,
        "left_eye": [round(v, 1) for v in le],
        "right_eye": [round(v, 1) for v in re_],
        "eye_mid_x": round(ex, 1),
        "eye_y": round(ey, 1),
        "eye_above_bottom": round(H - ey, 1),
        "tilt": round(tilt, 2),
        "hair_top": top,
        "background": bgd,
    })
    t = TOLERANCE
    fw_lo, fw_hi = FACE_WIDTH
    checks = {
        "face_width": _band(cw, fw_lo, fw_hi, t["face_width"] * cw),
        "hair_top": _band(top, *HAIR_TOP, t["hair_top"]) if top is not None else "fail",
        "eye_mid_x": _band(ex, *EYE_MID_X, t["eye_mid_x"]),
        "eye_line": _band(ey, -1e9, EYE_Y_MAX, t["eye_y"]),
        "tilt": _band(abs(tilt), 0.0, MAX_TILT, t["tilt"]),
        "background_white": "pass" if bgd["white"] else "fail",
        "one_face": "pass" if len(faces) == 1 else "unsure",
    }
    if top is not None and top < 1:
        checks["hair_top"] = "fail"  # the head touches the top edge: cut off
    out["checks"] = checks
    values = set(checks.values())
    out["verdict"] = "fail" if "fail" in values else ("unsure" if "unsure" in values else "pass")
    out["failed"] = sorted(k for k, v in checks.items() if v == "fail")
    out["unsure"] = sorted(k for k, v in checks.items() if v == "unsure")
    return out


def load_rgb(path: str | Path) -> np.ndarray:
    """A file as 8-bit RGB, upright (EXIF orientation applied), transparency over white."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            im = im.convert("RGBA")
            white = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, im)
        return np.asarray(im.convert("RGB"))


def measure_file(path: str | Path) -> dict:
    out = measure_rgb(load_rgb(path))
    out["file"] = str(path)
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    worst = 0
    for p in argv:
        try:
            r = measure_file(p)
        except Exception as e:  # noqa: BLE001 - report and go on
            r = {"file": p, "verdict": "unreadable", "error": str(e)}
        print(json.dumps(r, ensure_ascii=False))
        if r["verdict"] != "pass":
            worst = 1
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
