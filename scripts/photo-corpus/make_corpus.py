#!/usr/bin/env python3
"""Make the card photo corpus: real faces (sources.py) on phone-sized canvases, studio files,
scans, odd formats and metadata, each with its true geometry and the expected outcome.

    make_corpus.py OUTDIR [--cache DIR] [--jobs N] [--only SUBSTRING]

Deterministic: every random choice comes from a seed made from the case's name. Writes the
photos and OUTDIR/manifest.json (README.md describes its fields).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import piexif
import png  # pypng
from PIL import Image, ImageCms

sys.path.insert(0, str(Path(__file__).parent))
import sources as S  # noqa: E402

CARD_W, CARD_H = 358, 441

# Walls: a base colour, how far a gradient and soft blotches move it (levels), sensor noise.
WALLS = {
    "white": ((250, 250, 248), 4, 2, 1.2),
    "offwhite": ((244, 241, 233), 6, 3, 1.5),
    "lightgrey": ((229, 229, 226), 6, 3, 1.5),
    "coolwhite": ((240, 243, 247), 5, 3, 1.4),
    "studio": ((252, 252, 252), 2, 1, 0.8),
    "paleblue": ((205, 222, 240), 5, 2, 1.3),
    "blue": ((88, 140, 212), 6, 3, 1.5),
}
WHITE_WALLS = {"white", "offwhite", "lightgrey", "coolwhite", "studio"}

# The expected outcome is decided twice: with margins (STRICT: a crop exists even if the
# app measures the face 6% off and keeps 8 px inside each band) and without (LENIENT: the
# bands themselves, the enlargement limit stretched by the same 6%). Fixable when STRICT
# finds a crop; refuse when LENIENT finds none; borderline between (not scored).
MEASURE_ERROR = 0.06
STRICT = dict(face=(187.0, 247.0), x=(166.0, 192.0), top=(9.0, 19.0), eye_max=226.0,
              enlarge=1.5 / (1 + MEASURE_ERROR), edge_person=0.01)
LENIENT = dict(face=(179.0, 255.0), x=(162.0, 196.0), top=(7.0, 21.0), eye_max=234.0,
               enlarge=1.5 * (1 + MEASURE_ERROR), edge_person=0.10)
MAX_LEVEL = 10.0  # degrees of head tilt a crop may level (more: take the photo again)


@dataclass
class Case:
    id: str
    source: str
    canvas: tuple[int, int]  # upright width, height
    face: float  # cheek-to-cheek width in upright pixels
    eye_x: float  # the eyes' midpoint, upright pixels
    hair_y: float  # the top of the head, upright pixels (negative: cut off)
    wall: str = "white"
    tilt: float = 0.0  # degrees the head leans in the photo (right eye lower: positive)
    fmt: str = "jpeg"  # jpeg, cmyk, png16, rgba, grey_l, grey_rgb, grey_png, scan
    quality: int = 90
    orientation: int = 1  # EXIF orientation written; pixels stored so that it is upright
    meta: str = "camera"  # none, camera, private (GPS, artist, owner, ICC), xmp (XMP+COM)
    tags: list[str] = field(default_factory=list)
    second: str | None = None  # a second person (two faces)
    transparent_rgb: int = 0  # RGB under transparent pixels (rgba)
    force: tuple[str, str] | None = None  # expected outcome set by the variant


# ---------------------------------------------------------------- the cases

FRACTIONS = [0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45]
NAMES = [s.name for s in S.SOURCES]


def hair_for(W: int, H: int, face: float) -> float:
    """Where a phone portrait has the top of the head: lower for a small face."""
    return H * max(0.03, 0.22 - 0.35 * face / max(W, H))


def phone_cases() -> list[Case]:
    cases: list[Case] = []
    walls = ["white", "offwhite", "lightgrey", "coolwhite"]
    metas = ["private", "camera", "xmp"]
    n = 0

    def add(c: Case) -> None:
        nonlocal n
        c.wall = walls[n % len(walls)] if c.wall == "white" and "wall" not in c.tags else c.wall
        c.meta = metas[n % len(metas)] if c.meta == "camera" else c.meta
        c.tags = ["phone", f"canvas_{c.canvas[0]}x{c.canvas[1]}", f"wall_{c.wall}",
                  f"meta_{c.meta}"] + c.tags
        cases.append(c)
        n += 1

    portrait = [(600, 800), (1200, 1600), (3000, 4000)]
    for (W, H) in portrait:
        for i, fr in enumerate(FRACTIONS):
            for j in range(2):
                src = NAMES[(i + j * 2 + W // 600) % 4]
                F = fr * W
                add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_centre_{src}", src, (W, H), F,
                         W / 2, hair_for(W, H, F), tags=["centre"]))
        for k, fr in enumerate([0.12, 0.25, 0.40]):
            F = fr * W
            src = NAMES[(k + 1) % 4]
            side = 1 if k % 2 == 0 else -1
            add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_offcentre_{src}", src, (W, H), F,
                     W / 2 + side * 0.2 * W, hair_for(W, H, F), tags=["offcentre"]))
            src = NAMES[(k + 2) % 4]
            add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_topnear_{src}", src, (W, H), F,
                     W / 2, max(2.0, 0.004 * H), tags=["top_near"]))
        for k, fr in enumerate([0.15, 0.35]):
            F = fr * W
            src = NAMES[(k + 3) % 4]
            add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_topcut_{src}", src, (W, H), F,
                     W / 2, -0.25 * F, tags=["top_cut"]))
            src = NAMES[k % 4]
            add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_side_{src}", src, (W, H), F,
                     0.55 * F, hair_for(W, H, F), tags=["side"]))
            src = NAMES[(k + 2) % 4]
            add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_low_{src}", src, (W, H), F,
                     W / 2, 0.45 * H, tags=["low"]))
    # The phone photo of the known defect: 3000x4000, a face about 284 px wide.
    for src in ("obama", "astronaut"):
        add(Case(f"p3000x4000_f284px_centre_{src}", src, (3000, 4000), 284.0, 1500,
                 hair_for(3000, 4000, 284.0), tags=["centre", "defect_284px"]))
    # 4000x6000: fewer (they are large).
    W, H = 4000, 6000
    for i, fr in enumerate(FRACTIONS):
        src = NAMES[i % 4]
        F = fr * W
        add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_centre_{src}", src, (W, H), F, W / 2,
                 hair_for(W, H, F), quality=88, tags=["centre"]))
    for k, (pos, fr) in enumerate([("offcentre", 0.2), ("topnear", 0.3), ("side", 0.25)]):
        src = NAMES[(k + 1) % 4]
        F = fr * W
        x = {"offcentre": W / 2 - 0.2 * W, "topnear": W / 2, "side": 0.55 * F}[pos]
        y = 0.004 * H if pos == "topnear" else hair_for(W, H, F)
        add(Case(f"p{W}x{H}_f{int(fr * 100):02d}_{pos}_{src}", src, (W, H), F, x, y,
                 quality=88, tags=[{"topnear": "top_near"}.get(pos, pos)]))
    # Landscape 4000x3000.
    W, H = 4000, 3000
    for i, fr in enumerate([0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30]):
        src = NAMES[(i + 2) % 4]
        F = fr * W
        add(Case(f"l{W}x{H}_f{int(fr * 100):02d}_centre_{src}", src, (W, H), F, W / 2,
                 hair_for(W, H, F), quality=88, tags=["centre", "landscape"]))
    for k, fr in enumerate([0.12, 0.25]):
        src = NAMES[k % 4]
        F = fr * W
        add(Case(f"l{W}x{H}_f{int(fr * 100):02d}_offcentre_{src}", src, (W, H), F,
                 W / 2 + (0.25 if k else -0.25) * W, hair_for(W, H, F), quality=88,
                 tags=["offcentre", "landscape"]))
    add(Case(f"l{W}x{H}_f15_side_obama", "obama", (W, H), 0.15 * W, 0.55 * 0.15 * W,
             hair_for(W, H, 0.15 * W), quality=88, tags=["side", "landscape"]))
    return cases


def exif_rotated_cases() -> list[Case]:
    out = []
    i = 0
    for (W, H) in [(1200, 1600), (3000, 4000)]:
        for o in (6, 8, 3):
            for j in range(2):
                src = NAMES[(i + j) % 4]
                F = (0.25 if j == 0 else 0.18) * W
                out.append(Case(f"rot{o}_{W}x{H}_f{round(F / W * 100):02d}_{src}", src, (W, H),
                                F, W / 2, hair_for(W, H, F), wall=["white", "offwhite"][j],
                                orientation=o, meta="private" if j == 0 else "camera",
                                tags=["phone", "exif_rotated", f"orientation_{o}",
                                      f"canvas_{W}x{H}", f"meta_{'private' if j == 0 else 'camera'}"]))
            i += 1
    return out


def studio_geometry(n: float, face: float = 215.0, eye_x: float = 179.0,
                    hair: float = 14.0) -> tuple[tuple[int, int], float, float, float]:
    return (round(CARD_W * n), round(CARD_H * n)), face * n, eye_x * n, hair * n


def studio_cases() -> list[Case]:
    out = []
    for src in NAMES:
        for n in (1, 2, 3, 4):
            canvas, F, x, y = studio_geometry(n)
            out.append(Case(f"studio{n}x_{src}", src, canvas, F, x, y, wall="studio",
                            quality=92, meta="none" if n != 3 else "private",
                            tags=["studio", f"studio_{n}x", f"canvas_{canvas[0]}x{canvas[1]}"]))
    # A compliant 358x441 file that still carries a phone's EXIF (GPS, owner), ICC and XMP.
    for src, meta in (("obama", "private"), ("astronaut", "private"), ("hopper", "xmp")):
        canvas, F, x, y = studio_geometry(1)
        out.append(Case(f"studio1x_{meta}_{src}", src, canvas, F, x, y, wall="studio",
                        quality=92, meta=meta,
                        tags=["studio", "studio_1x", "studio_metadata", "canvas_358x441"]))
    # Compliant but near the bands' ends (for the measure), and non-compliant 358x441 files.
    extra = [("studio1x_tight", "obama", dict(face=245.0, eye_x=186.0, hair=10.0), "studio_edge"),
             ("studio1x_loose", "hopper", dict(face=188.0, eye_x=172.0, hair=19.0), "studio_edge"),
             ("studio1x_tight", "astronaut", dict(face=232.0, eye_x=170.0, hair=10.0), "studio_edge"),
             ("studio1x_loose", "biden", dict(face=190.0, eye_x=188.0, hair=9.0), "studio_edge"),
             ("card358_smallface", "obama", dict(face=150.0, eye_x=179.0, hair=70.0), "card_noncompliant"),
             ("card358_smallface", "hopper", dict(face=150.0, eye_x=179.0, hair=70.0), "card_noncompliant"),
             ("card358_offcentre", "astronaut", dict(face=215.0, eye_x=140.0, hair=14.0), "card_noncompliant"),
             ("card358_offcentre", "biden", dict(face=215.0, eye_x=222.0, hair=14.0), "card_noncompliant"),
             ("card358_headlow", "obama", dict(face=200.0, eye_x=179.0, hair=40.0), "card_noncompliant"),
             ("card358_facelarge", "hopper", dict(face=275.0, eye_x=179.0, hair=5.0), "card_noncompliant")]
    for name, src, g, tag in extra:
        canvas, F, x, y = studio_geometry(1, **g)
        out.append(Case(f"{name}_{src}", src, canvas, F, x, y, wall="studio", quality=92,
                        meta="none", tags=["studio", tag, "canvas_358x441"]))
    # Scans of a printed studio photo: 2.2x, slightly blurred, paper tint, JPEG q75.
    for src in NAMES:
        canvas, F, x, y = studio_geometry(2.2)
        out.append(Case(f"scan_{src}", src, canvas, F, x, y, wall="studio", fmt="scan",
                        quality=75, meta="none", tags=["scan", f"canvas_{canvas[0]}x{canvas[1]}"]))
    return out


def format_cases() -> list[Case]:
    out = []

    def phone(id_, src, W, H, fr, **kw):
        F = fr * W
        tags = kw.pop("tags", [])
        return Case(id_, src, (W, H), F, kw.pop("eye_x", W / 2), kw.pop("hair_y", hair_for(W, H, F)),
                    tags=tags + [f"canvas_{W}x{H}"], **kw)

    # CMYK JPEGs.
    out.append(phone("cmyk_1200x1600_obama", "obama", 1200, 1600, 0.30, fmt="cmyk", meta="none", tags=["cmyk", "phone"]))
    out.append(phone("cmyk_1200x1600_astronaut", "astronaut", 1200, 1600, 0.22, fmt="cmyk", meta="none", tags=["cmyk", "phone"]))
    out.append(phone("cmyk_3000x4000_hopper", "hopper", 3000, 4000, 0.2, fmt="cmyk", meta="none", tags=["cmyk", "phone"]))
    c, F, x, y = studio_geometry(2)
    out.append(Case("cmyk_studio2x_biden", "biden", c, F, x, y, wall="studio", fmt="cmyk", meta="none", tags=["cmyk", "studio", "canvas_716x882"]))
    for n, src in ((1, "hopper"), (3, "obama")):
        c, F, x, y = studio_geometry(n)
        out.append(Case(f"cmyk_studio{n}x_{src}", src, c, F, x, y, wall="studio", fmt="cmyk", meta="none", tags=["cmyk", "studio", f"canvas_{c[0]}x{c[1]}"]))
    # 16-bit RGB PNGs.
    out.append(phone("png16_1200x1600_hopper", "hopper", 1200, 1600, 0.3, fmt="png16", meta="none", tags=["png16", "phone"]))
    out.append(phone("png16_1200x1600_biden", "biden", 1200, 1600, 0.2, fmt="png16", meta="none", tags=["png16", "phone"]))
    out.append(phone("png16_600x800_obama", "obama", 600, 800, 0.35, fmt="png16", meta="none", tags=["png16", "phone"]))
    c, F, x, y = studio_geometry(1)
    out.append(Case("png16_studio1x_astronaut", "astronaut", c, F, x, y, wall="studio", fmt="png16", meta="none", tags=["png16", "studio", "canvas_358x441"]))
    for n, src in ((2, "obama"), (3, "hopper")):
        c, F, x, y = studio_geometry(n)
        out.append(Case(f"png16_studio{n}x_{src}", src, c, F, x, y, wall="studio", fmt="png16", meta="none", tags=["png16", "studio", f"canvas_{c[0]}x{c[1]}"]))
    # PNGs with transparency around the person.
    out.append(phone("rgba_1200x1600_obama_black", "obama", 1200, 1600, 0.3, fmt="rgba", meta="none", transparent_rgb=0, tags=["rgba", "phone"]))
    out.append(phone("rgba_1200x1600_hopper_black", "hopper", 1200, 1600, 0.22, fmt="rgba", meta="none", transparent_rgb=0, tags=["rgba", "phone"]))
    out.append(phone("rgba_600x800_biden_white", "biden", 600, 800, 0.4, fmt="rgba", meta="none", transparent_rgb=255, tags=["rgba", "phone"]))
    c, F, x, y = studio_geometry(2)
    out.append(Case("rgba_studio2x_astronaut", "astronaut", c, F, x, y, wall="studio", fmt="rgba", meta="none", transparent_rgb=0, tags=["rgba", "studio", "canvas_716x882"]))
    for n, src in ((1, "obama"), (3, "hopper")):
        c, F, x, y = studio_geometry(n)
        out.append(Case(f"rgba_studio{n}x_{src}", src, c, F, x, y, wall="studio", fmt="rgba", meta="none", transparent_rgb=0, tags=["rgba", "studio", f"canvas_{c[0]}x{c[1]}"]))
    # Greyscale: refused.
    grey = ("refuse", "greyscale")
    out.append(phone("grey_l_1200x1600_obama", "obama", 1200, 1600, 0.3, fmt="grey_l", meta="camera", force=grey, tags=["greyscale", "phone"]))
    out.append(phone("grey_rgb_3000x4000_hopper", "hopper", 3000, 4000, 0.2, fmt="grey_rgb", meta="camera", force=grey, tags=["greyscale", "phone"]))
    c, F, x, y = studio_geometry(1)
    out.append(Case("grey_l_studio1x_biden", "biden", c, F, x, y, wall="studio", fmt="grey_l", meta="none", force=grey, tags=["greyscale", "studio", "canvas_358x441"]))
    out.append(phone("grey_png_1200x1600_astronaut", "astronaut", 1200, 1600, 0.25, fmt="grey_png", meta="none", force=grey, tags=["greyscale", "phone"]))
    # Walls that are not white: refused (the app does not replace a background).
    notwhite = ("refuse", "background_not_white")
    out.append(phone("wall_blue_1200x1600_obama", "obama", 1200, 1600, 0.3, wall="blue", meta="camera", force=notwhite, tags=["wall", "wall_blue", "phone"]))
    out.append(phone("wall_paleblue_1200x1600_astronaut", "astronaut", 1200, 1600, 0.25, wall="paleblue", meta="camera", force=notwhite, tags=["wall", "wall_paleblue", "phone"]))
    out.append(phone("wall_blue_3000x4000_biden", "biden", 3000, 4000, 0.2, wall="blue", meta="camera", force=notwhite, tags=["wall", "wall_blue", "phone"]))
    # Leaning heads: levelled when small; refused when large.
    out.append(phone("tilt5_1200x1600_obama", "obama", 1200, 1600, 0.3, tilt=5.0, tags=["tilted_small", "phone"]))
    out.append(phone("tilt-6_3000x4000_astronaut", "astronaut", 3000, 4000, 0.2, tilt=-6.0, tags=["tilted_small", "phone"]))
    out.append(phone("tilt7_1200x1600_biden", "biden", 1200, 1600, 0.25, tilt=7.0, tags=["tilted_small", "phone"]))
    tilted = ("refuse", "tilted")
    out.append(phone("tilt15_1200x1600_hopper", "hopper", 1200, 1600, 0.3, tilt=15.0, force=tilted, tags=["tilted_large", "phone"]))
    out.append(phone("tilt-16_3000x4000_obama", "obama", 3000, 4000, 0.25, tilt=-16.0, force=tilted, tags=["tilted_large", "phone"]))
    # Two people; nobody.
    many = ("refuse", "many_faces")
    out.append(phone("two_1200x1600_obama_biden", "obama", 1200, 1600, 0.18, eye_x=0.3 * 1200, second="biden", force=many, tags=["two_faces", "phone"]))
    out.append(phone("two_3000x4000_astronaut_hopper", "astronaut", 3000, 4000, 0.15, eye_x=0.3 * 3000, second="hopper", force=many, tags=["two_faces", "phone"]))
    out.append(phone("noface_1200x1600_wall", "obama", 1200, 1600, 0.2, force=("refuse", "no_face"), tags=["no_face", "phone"]))
    for c in out:
        c.tags = c.tags + [f"wall_{c.wall}"] if not any(t.startswith("wall_") for t in c.tags) else c.tags
        c.tags.append(f"meta_{c.meta}")
    return out


def all_cases() -> list[Case]:
    cases = phone_cases() + exif_rotated_cases() + studio_cases() + format_cases()
    seen = set()
    for c in cases:
        assert c.id not in seen, c.id
        seen.add(c.id)
    return cases


# ---------------------------------------------------------------- rendering

CUTOUTS: dict[str, S.Cutout] = {}


def seed(name: str) -> int:
    return zlib.crc32(name.encode())


def make_wall(W: int, H: int, style: str, rng: np.random.Generator) -> np.ndarray:
    base, grad, blotch, _ = WALLS[style]
    gw, gh = max(4, W // 64), max(4, H // 64)
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    g = (np.cos(ang) * (xx / gw - 0.5) + np.sin(ang) * (yy / gh - 0.5)) * 2 * grad
    bl = cv2.resize(rng.normal(0, 1, (4, 3)).astype(np.float32), (gw, gh),
                    interpolation=cv2.INTER_CUBIC) * blotch
    low = np.clip(np.array(base, np.float32)[None, None, :] + (g + bl)[..., None], 0, 255)
    return cv2.resize(low.astype(np.uint8), (W, H), interpolation=cv2.INTER_LINEAR)


def add_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma <= 0:
        return img
    H, W = img.shape[:2]
    tile = np.round(rng.normal(0, sigma, (509, 509, 3))).astype(np.int16)
    reps = (H // 509 + 1, W // 509 + 1, 1)
    noise = np.tile(tile, reps)[:H, :W]
    out = img.astype(np.int16)
    out += noise
    return np.clip(out, 0, 255).astype(np.uint8)


def rotated_hair_offset(c: S.Cutout, rot: float) -> float:
    """How far above the eyes' midpoint the top of the head is, the head turned by `rot`
    degrees (source pixels)."""
    a = c.rgba[..., 3]
    mx, my = c.eye_mid
    M = cv2.getRotationMatrix2D((mx, my), -rot, 1.0)
    r = cv2.warpAffine(a, M, (a.shape[1], a.shape[0]), flags=cv2.INTER_LINEAR)
    x0, x1 = int(mx - c.source.cheek / 2), int(mx + c.source.cheek / 2)
    rows = (r[:, x0:x1] > 127).mean(axis=1) > 0.03
    return my - float(np.argmax(rows))


def place_person(canvas_rgb: np.ndarray | None, alpha_acc: np.ndarray, c: S.Cutout,
                 F: float, eye_x: float, hair_y: float, tilt: float) -> dict:
    """Draw a person into the canvas (in place) so that the cheeks are F wide, the eyes'
    midpoint at eye_x, the head's top at hair_y, leaning `tilt` degrees. Returns where the
    landmarks landed."""
    H, W = alpha_acc.shape
    s = F / c.source.cheek
    rot = tilt - c.tilt  # turn the source by this many degrees
    eye_y = hair_y + s * rotated_hair_offset(c, rot)
    d = s * c.eye_dist
    t = math.radians(tilt)
    le = (eye_x - d / 2 * math.cos(t), eye_y - d / 2 * math.sin(t))
    re_ = (eye_x + d / 2 * math.cos(t), eye_y + d / 2 * math.sin(t))
    (slx, sly), (srx, sry) = c.source.eyes
    # The similarity that takes the source's eyes to these.
    src_v = complex(srx - slx, sry - sly)
    dst_v = complex(re_[0] - le[0], re_[1] - le[1])
    z = dst_v / src_v
    a, b = z.real, z.imag
    tx = le[0] - (a * slx - b * sly)
    ty = le[1] - (b * slx + a * sly)
    M = np.array([[a, -b, tx], [b, a, ty]], np.float64)
    # Enough body below to reach the bottom edge (and a turned body's corners).
    bottom_now = max((M @ np.array([x, c.rgba.shape[0], 1.0]))[1]
                     for x in (0, c.rgba.shape[1]))
    extra = int(max(0.0, (H - bottom_now) / s) + 0.2 * c.rgba.shape[1] + 8)
    src = S.extended(c, extra)
    if s < 1:
        small = cv2.resize(src, (max(1, round(src.shape[1] * s)), max(1, round(src.shape[0] * s))),
                           interpolation=cv2.INTER_AREA)
        Ms = M.copy()
        Ms[:, :2] /= s
        warped = cv2.warpAffine(small, Ms, (W, H), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    else:
        warped = cv2.warpAffine(src, M, (W, H), flags=cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    al = warped[..., 3]
    x, y, w, h = cv2.boundingRect((al > 0).astype(np.uint8))
    if w and h:
        sub_a = al[y:y + h, x:x + w].astype(np.float32) / 255.0
        if canvas_rgb is not None:
            sub = canvas_rgb[y:y + h, x:x + w].astype(np.float32)
            person = warped[y:y + h, x:x + w, :3].astype(np.float32)
            canvas_rgb[y:y + h, x:x + w] = np.clip(
                sub + (person - sub) * sub_a[..., None] + 0.5, 0, 255).astype(np.uint8)
        acc = alpha_acc[y:y + h, x:x + w]
        np.maximum(acc, sub_a, out=acc)
    hx, hy, hw, hh = c.source.haar
    cx, cy = M @ np.array([hx + hw / 2, hy + hh / 2, 1.0])
    return {
        "warped": warped,
        "scale": s,
        "eyes": [list(le), list(re_)],
        "face_box": [cx - s * hw / 2, cy - s * hh / 2, s * hw, s * hh],
    }


def head_top(alpha: np.ndarray, eye_x: float, F: float) -> float:
    """The top of the head in the canvas: the first row where the head's span is ≥3%
    person; 0 when the person reaches the top edge there."""
    W = alpha.shape[1]
    x0, x1 = max(0, int(eye_x - F / 2)), min(W, int(eye_x + F / 2) + 1)
    if x1 <= x0:
        return float("nan")
    rows = (alpha[:, x0:x1] > 0.5).mean(axis=1) > 0.03
    if not rows.any():
        return float("nan")
    return float(np.argmax(rows))


# ---------------------------------------------------------------- expected outcome

def feasible(p: dict, F: float, ex: float, ey: float, hair: float, W: int, H: int,
             edge_person: dict[str, np.ndarray], edge_white: bool):
    """A crop (scale k card px per photo px, eyes' midpoint X from the left, hair T below
    the top) that meets the bands `p` inside the photo, or reaching out only where the
    photo's edge is white background. None when there is none."""
    if hair <= 0 or F <= 0:
        return None
    lo, hi = p["face"]
    kmin = lo / F
    head = max(1.0, ey - hair)
    kmax = min(hi / F, p["enlarge"], (p["eye_max"] - p["top"][0]) / head)
    if kmin > kmax:
        return None
    cums = {k: np.concatenate([[0], np.cumsum(v)]) for k, v in edge_person.items()}

    def person_frac(side: str, a: float, b: float) -> float:
        n = len(edge_person[side])
        i, j = max(0, int(math.floor(a))), min(n, int(math.ceil(b)))
        if j <= i:
            return 0.0
        return float(cums[side][j] - cums[side][i]) / (j - i)

    aim = 215.0 / F
    ks = sorted(np.linspace(kmin, kmax, 17), key=lambda k: abs(k - aim))
    # Nearest the bands' middles first (the crop reported is then a typical one).
    xs = sorted(np.arange(p["x"][0], p["x"][1] + 0.01, 2.0), key=lambda v: abs(v - 179.0))
    ts = sorted(np.arange(p["top"][0], p["top"][1] + 0.01, 1.0), key=lambda v: abs(v - 14.0))
    for k in ks:
        cw, ch = CARD_W / k, CARD_H / k
        for T in ts:
            if T + k * head > p["eye_max"]:
                continue
            y0 = hair - T / k
            y1 = y0 + ch
            for X in xs:
                x0 = ex - X / k
                x1 = x0 + cw
                ok = True
                for side, out, a, b in (("left", x0 < -0.5, y0, y1), ("right", x1 > W + 0.5, y0, y1),
                                        ("top", y0 < -0.5, x0, x1), ("bottom", y1 > H + 0.5, x0, x1)):
                    if out and (not edge_white or person_frac(side, a, b) > p["edge_person"]):
                        ok = False
                        break
                if ok:
                    return {"k": round(float(k), 4), "eye_mid_x": float(X), "hair_top": float(T),
                            "window": [round(x0, 1), round(y0, 1), round(cw, 1), round(ch, 1)],
                            "pads": [s for s, o in (("left", x0 < -0.5), ("right", x1 > W + 0.5),
                                                    ("top", y0 < -0.5), ("bottom", y1 > H + 0.5)) if o]}
    return None


def expected(case: Case, truth: dict, edge_person, edge_white) -> tuple[str, str | None, dict]:
    W, H = case.canvas
    if case.force:
        return case.force[0], case.force[1], {}
    F = truth["cheek_width"]
    ex, ey = truth["eye_mid"]
    hair = truth["hair_top"]
    if abs(truth["tilt"]) > MAX_LEVEL:
        return "refuse", "tilted", {}
    strict = feasible(STRICT, F, ex, ey, hair, W, H, edge_person, edge_white)
    lenient = feasible(LENIENT, F, ex, ey, hair, W, H, edge_person, edge_white)
    detail = {"strict": strict, "lenient": lenient}
    if strict:
        return "fixable", None, detail
    if lenient:
        return "borderline", None, detail
    if hair <= 0:
        return "refuse", "head_cut", detail
    if F * LENIENT["enlarge"] < LENIENT["face"][0]:
        return "refuse", "face_too_small", detail
    return "refuse", "no_room", detail


# ---------------------------------------------------------------- writing

def exif_bytes(case: Case, stored_wh: tuple[int, int]) -> bytes | None:
    if case.meta == "none" and case.orientation == 1:
        return None
    rng = np.random.default_rng(seed(case.id + "exif"))
    makes = [("Xiaomi", "Redmi Note 12"), ("HUAWEI", "P60"), ("Apple", "iPhone 14")]
    make, model = makes[int(rng.integers(0, 3))]
    zeroth = {piexif.ImageIFD.Orientation: case.orientation,
              piexif.ImageIFD.XResolution: (72, 1), piexif.ImageIFD.YResolution: (72, 1)}
    exif = {}
    gps = {}
    if case.meta in ("camera", "private", "xmp"):
        zeroth[piexif.ImageIFD.Make] = make.encode()
        zeroth[piexif.ImageIFD.Model] = model.encode()
        zeroth[piexif.ImageIFD.DateTime] = b"2026:03:14 09:26:53"
        exif[piexif.ExifIFD.DateTimeOriginal] = b"2026:03:14 09:26:53"
        exif[piexif.ExifIFD.PixelXDimension] = stored_wh[0]
        exif[piexif.ExifIFD.PixelYDimension] = stored_wh[1]
    if case.meta == "private":
        zeroth[piexif.ImageIFD.Artist] = "Zhang San".encode()
        zeroth[piexif.ImageIFD.Copyright] = "Zhang San 2026".encode()
        exif[piexif.ExifIFD.CameraOwnerName] = "Zhang San".encode()
        exif[piexif.ExifIFD.BodySerialNumber] = b"SN-0042-1337"
        gps = {piexif.GPSIFD.GPSLatitudeRef: b"N",
               piexif.GPSIFD.GPSLatitude: ((39, 1), (54, 1), (2736, 100)),
               piexif.GPSIFD.GPSLongitudeRef: b"E",
               piexif.GPSIFD.GPSLongitude: ((116, 1), (23, 1), (5100, 100)),
               piexif.GPSIFD.GPSAltitudeRef: 0,
               piexif.GPSIFD.GPSAltitude: (4400, 100)}
    return piexif.dump({"0th": zeroth, "Exif": exif, "GPS": gps, "1st": {}, "thumbnail": None})


XMP = (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
       b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
       b'<dc:creator><rdf:Seq><rdf:li>Zhang San</rdf:li></rdf:Seq></dc:creator>'
       b'<photoshop:City>Beijing</photoshop:City></rdf:Description></rdf:RDF></x:xmpmeta>'
       b'<?xpacket end="w"?>')

_ICC: bytes | None = None


def icc() -> bytes:
    global _ICC
    if _ICC is None:
        b = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
        # The header's creation time (bytes 24-35) would differ on every run: a fixed one,
        # and no profile ID (bytes 84-99, an MD5 that may be zero).
        b[24:36] = bytes([0x07, 0xEA, 0, 3, 0, 14, 0, 9, 0, 26, 0, 53])
        b[84:100] = bytes(16)
        _ICC = bytes(b)
    return _ICC


def stored_pixels(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels as stored, so that applying `orientation` makes them upright."""
    if orientation == 6:
        return np.ascontiguousarray(np.rot90(upright, 1))
    if orientation == 8:
        return np.ascontiguousarray(np.rot90(upright, -1))
    if orientation == 3:
        return np.ascontiguousarray(np.rot90(upright, 2))
    return upright


def write(case: Case, rgb: np.ndarray, alpha: np.ndarray, person_rgb: np.ndarray | None,
          out: Path) -> tuple[str, dict]:
    """Write the file; its name and what metadata it carries."""
    meta = {"exif": False, "gps": False, "artist": False, "owner": False, "icc": False,
            "xmp": False, "comment": False}
    if case.fmt in ("jpeg", "cmyk", "grey_l", "grey_rgb", "scan"):
        name = f"{case.id}.jpg"
        px = stored_pixels(rgb, case.orientation)
        im = Image.fromarray(px)
        if case.fmt == "cmyk":
            im = im.convert("CMYK")
        elif case.fmt == "grey_l":
            im = im.convert("L")
        elif case.fmt == "grey_rgb":
            im = im.convert("L").convert("RGB")
        kw: dict = {"quality": case.quality, "subsampling": 2}
        ex = exif_bytes(case, im.size)
        if ex:
            kw["exif"] = ex
            meta["exif"] = True
            meta["gps"] = meta["artist"] = meta["owner"] = case.meta == "private"
        if case.meta == "private":
            kw["icc_profile"] = icc()
            meta["icc"] = True
        if case.meta == "xmp":
            kw["xmp"] = XMP
            kw["comment"] = "Zhang San, Beijing"
            meta["xmp"] = meta["comment"] = True
        im.save(out / name, "JPEG", **kw)
    elif case.fmt == "png16":
        name = f"{case.id}.png"
        H, W, _ = rgb.shape
        wide = rgb.astype(np.uint16) * 257
        # Keep the low byte alive (a real 16-bit file, not 8-bit doubled): add a dither.
        rng = np.random.default_rng(seed(case.id))
        wide = np.clip(wide.astype(np.int32) + rng.integers(-128, 128, wide.shape), 0, 65535).astype(np.uint16)
        with open(out / name, "wb") as f:
            png.Writer(W, H, greyscale=False, bitdepth=16, compression=6).write(
                f, wide.reshape(H, W * 3))
    elif case.fmt == "grey_png":
        name = f"{case.id}.png"
        Image.fromarray(rgb).convert("L").save(out / name, "PNG")
    elif case.fmt == "rgba":
        name = f"{case.id}.png"
        a = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
        colours = person_rgb.copy()
        colours[a == 0] = case.transparent_rgb
        Image.fromarray(np.dstack([colours, a]), "RGBA").save(out / name, "PNG")
    else:
        raise ValueError(case.fmt)
    return name, meta


def render(case: Case, out: Path) -> dict:
    W, H = case.canvas
    rng = np.random.default_rng(seed(case.id))
    wall_style = case.wall
    canvas = make_wall(W, H, wall_style, rng)
    alpha = np.zeros((H, W), np.float32)
    c = CUTOUTS[case.source]
    person_rgb = None
    if "no_face" in case.tags:
        placed = None
    else:
        placed = place_person(canvas, alpha, c, case.face, case.eye_x, case.hair_y, case.tilt)
        if case.fmt == "rgba":
            person_rgb = placed["warped"][..., :3].copy()
        if case.second:
            c2 = CUTOUTS[case.second]
            place_person(canvas, alpha, c2, case.face, W - case.eye_x, case.hair_y, 0.0)
        placed.pop("warped")
    canvas = add_noise(canvas, WALLS[wall_style][3], rng)
    if case.fmt == "scan":
        tint = np.array([1.0, 0.985, 0.95], np.float32)
        canvas = np.clip(canvas.astype(np.float32) * tint, 0, 255).astype(np.uint8)
        canvas = cv2.GaussianBlur(canvas, (0, 0), 1.1)
    name, meta = write(case, canvas, alpha, person_rgb, out)
    entry = {
        "id": case.id,
        "file": name,
        "source": case.source,
        "tags": case.tags,
        "format": case.fmt,
        "canvas": [W, H],
        "stored": [H, W] if case.orientation in (6, 8) else [W, H],
        "exif_orientation": case.orientation if case.orientation != 1 else None,
        "wall": case.wall,
        "metadata": meta,
        "bytes": (out / name).stat().st_size,
    }
    if placed is None:
        entry.update({"expected": "refuse", "reason": "no_face"})
        return entry
    F = case.face
    (lx, ly), (rx, ry) = placed["eyes"]
    ex, ey = (lx + rx) / 2, (ly + ry) / 2
    hair = head_top(alpha, ex, F)
    if hair <= 0:
        hair = 0.0
    tilt = math.degrees(math.atan2(ry - ly, rx - lx))
    truth = {
        "face_box": [round(v, 1) for v in placed["face_box"]],
        "cheek_width": round(F, 1),
        "face_pct": round(100 * F / W, 1),
        "eyes": [[round(lx, 1), round(ly, 1)], [round(rx, 1), round(ry, 1)]],
        "eye_mid": [round(ex, 1), round(ey, 1)],
        "tilt": round(tilt, 2),
        "hair_top": round(hair, 1),
        "head_cut": hair <= 0,
    }
    # The photo's edges: where the person touches each (for filling outside it).
    edge_person = {"left": alpha[:, 0] > 0.5, "right": alpha[:, W - 1] > 0.5,
                   "top": alpha[0, :] > 0.5, "bottom": alpha[H - 1, :] > 0.5}
    edge_white = case.fmt == "rgba" or wall_style in WHITE_WALLS
    outcome, reason, detail = expected(case, truth, edge_person, edge_white)
    truth["edge_person"] = {k: round(float(v.mean()), 3) for k, v in edge_person.items()}
    entry.update(truth)
    entry.update({"expected": outcome, "reason": reason, "crop_found": detail})
    return entry


def _init(cache: str) -> None:
    cv2.setNumThreads(1)
    if not CUTOUTS:
        paths = S.fetch(Path(cache))
        for s in S.SOURCES:
            CUTOUTS[s.name] = S.cutout(s, paths[s.name])


def _render(args):
    case, out = args
    return render(case, Path(out))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "sbk-photo-corpus",
                    help="where pip downloads the source packages (kept between runs)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--only", help="make only the cases whose id contains this")
    a = ap.parse_args()
    a.outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    _init(str(a.cache))
    cases = all_cases()
    if a.only:
        cases = [c for c in cases if a.only in c.id]
    work = [(c, str(a.outdir)) for c in cases]
    if a.jobs > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(a.jobs, initializer=_init, initargs=(str(a.cache),)) as pool:
            entries = pool.map(_render, work, chunksize=1)
    else:
        entries = [_render(w) for w in work]
    manifest = {
        "generator": "scripts/photo-corpus/make_corpus.py",
        "card": [CARD_W, CARD_H],
        "bands": {"face_width": [179, 255], "hair_top": [7, 21], "eye_mid_x": [162, 196],
                  "eye_line_above_bottom_min": 207, "max_tilt": 8},
        "expected_rule": {"strict": STRICT, "lenient": LENIENT, "measure_error": MEASURE_ERROR,
                          "max_level_degrees": MAX_LEVEL},
        "sources": [{"name": s.name, "package": s.pip_spec, "member": s.member,
                     "sha256": s.sha256, "who": s.who, "licence": s.licence,
                     "haar_alt2_box": s.haar, "eyes": s.eyes, "cheek_width": s.cheek,
                     "hair_top": round(CUTOUTS[s.name].hair_top, 1), "note": s.note}
                    for s in S.SOURCES],
        "cases": entries,
    }
    (a.outdir / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    total = sum(e["bytes"] for e in entries)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e["expected"]] = counts.get(e["expected"], 0) + 1
    print(f"{len(entries)} cases, {total / 1e6:.0f} MB, {time.time() - t0:.0f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
