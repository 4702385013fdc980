#!/usr/bin/env python3
"""Run `sbk photo fix` over the corpus and judge every result independently.

    run.py --sbk PATH_TO_SBK --corpus OUTDIR --out REPORT_DIR [--jobs N] [--min-pass F]

For each case of OUTDIR/manifest.json: `sbk photo fix --kind card INPUT OUTPUT` (with a fresh
HOME, XDG dirs and SBK_DATA_DIR: the command needs no store), its exit code, output and time;
for a written photo, the file (358x441, JPEG, colour, 20 KB-8.75 MB, no EXIF, XMP, ICC,
Photoshop/IPTC or comment segment), measure.py's verdict and `sbk photo check --json`'s; for
a refusal, the reason its message names and whether a face width in it (`宽约 N 像素`) is
within 15% of the true one. Each case is then:

  fixed_compliant       expected fixable (or borderline), written, and it passes
  fixed_noncompliant    written, but the file or the measure fails          (failure)
  refused_wrongly       expected fixable, refused                           (failure)
  refused_justified     expected refuse, refused                            (failure when a
                        face width in the message is more than 15% off the true one)
  fixed_unjustified     expected refuse, written anyway                     (failure)
  borderline_refused    between the two (not scored)

Writes REPORT_DIR/report.json, REPORT_DIR/report.md and REPORT_DIR/outputs/. Exits 1 when the
share of scored cases that pass is under --min-pass (default 1.0: any failure), 2 on a
usage error.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402

CARD_MIN_BYTES = 20 * 1024
CARD_MAX_BYTES = 9_175_040
WIDTH_IN_MESSAGE_TOLERANCE = 0.15

# The app's refusals (src/photo/fix.rs, decode.rs), by the words that start them.
REASONS = [
    ("原照片是黑白的", "greyscale"),
    ("照片里没有找到人脸", "no_face"),
    ("张人脸", "many_faces"),
    ("人脸太小", "face_too_small"),
    ("头顶被裁掉了", "head_cut"),
    ("头部倾斜约", "tilted"),
    ("头部两侧看不到背景", "no_background"),
    ("裁剪框超出了原照片的", "no_room"),
    ("裁剪区域只有", "crop_too_small"),
    ("照片细节太少", "too_plain"),
    ("裁剪框里几乎没有颜色", "crop_colourless"),
    ("背景不是纯白色", "background_not_white"),
    ("头顶被裁", "head_cut"),
    ("脸宽约", "geometry_face_width"),
    ("头顶离上边", "geometry_hair"),
    ("两眼中点", "geometry_off_centre"),
    ("眼睛离下边", "geometry_eyes_low"),
    ("头部歪了", "tilted"),
    ("生成的照片仍不合格", "geometry"),
    ("无法读取照片", "unreadable"),
]


def reason_of(message: str) -> str:
    for words, code in REASONS:
        if words in message:
            return code
    return "other"


def jpeg_segments(data: bytes) -> list[tuple[str, int]]:
    """The marker segments before the first scan: (name, length)."""
    out: list[tuple[str, int]] = []
    if data[:2] != b"\xff\xd8":
        return out
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if m in (0xD8, 0x01) or 0xD0 <= m <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        body = data[i + 4:i + 2 + length]
        if m == 0xDA:
            out.append(("SOS", length))
            break
        if m == 0xE0:
            name = "APP0:JFIF" if body.startswith(b"JFIF") else "APP0"
        elif m == 0xE1:
            if body.startswith(b"Exif\x00"):
                name = "APP1:Exif"
            elif body.startswith(b"http://ns.adobe.com/xap/1.0/"):
                name = "APP1:XMP"
            elif body.startswith(b"http://ns.adobe.com/xmp/extension/"):
                name = "APP1:XMP-extension"
            else:
                name = "APP1"
        elif m == 0xE2:
            name = "APP2:ICC" if body.startswith(b"ICC_PROFILE") else "APP2"
        elif m == 0xED:
            name = "APP13:Photoshop/IPTC"
        elif m == 0xEE:
            name = "APP14:Adobe"
        elif 0xE0 <= m <= 0xEF:
            name = f"APP{m - 0xE0}"
        elif m == 0xFE:
            name = "COM"
        elif m in (0xC0, 0xC1, 0xC2):
            name = f"SOF{m - 0xC0}"
        elif m == 0xC4:
            name = "DHT"
        elif m == 0xDB:
            name = "DQT"
        elif m == 0xDD:
            name = "DRI"
        else:
            name = f"FF{m:02X}"
        out.append((name, length))
        i += 2 + length
    return out


METADATA = ("APP1", "APP2", "APP13", "COM", "APP3", "APP4", "APP5", "APP6", "APP7", "APP8",
            "APP9", "APP10", "APP11", "APP12", "APP15")


def inspect_output(path: Path) -> dict:
    """The written file against the card's hard rules."""
    from PIL import Image

    data = path.read_bytes()
    segs = jpeg_segments(data)
    names = [n for n, _ in segs]
    meta = sorted({n for n in names if n.split(":")[0] in METADATA})
    info: dict = {"bytes": len(data), "jpeg": data[:2] == b"\xff\xd8", "segments": names,
                  "metadata": meta}
    try:
        with Image.open(path) as im:
            info.update({"format": im.format, "size": list(im.size), "mode": im.mode})
    except Exception as e:  # noqa: BLE001
        info.update({"format": None, "error": str(e)})
    problems = []
    if not info["jpeg"] or info.get("format") != "JPEG":
        problems.append("not_jpeg")
    if info.get("size") != [358, 441]:
        problems.append(f"size_{info.get('size')}")
    if info.get("mode") != "RGB":
        problems.append(f"mode_{info.get('mode')}")
    if not (CARD_MIN_BYTES <= len(data) <= CARD_MAX_BYTES):
        problems.append(f"bytes_{len(data)}")
    for m in meta:
        problems.append(f"metadata_{m}")
    info["problems"] = problems
    return info


def run_case(case: dict, args, env: dict, outputs: Path) -> dict:
    src = Path(args.corpus) / case["file"]
    out = outputs / f"{case['id']}.jpg"
    if out.exists():
        out.unlink()
    t = time.time()
    try:
        p = subprocess.run([args.sbk, "photo", "fix", "--kind", "card", str(src), str(out)],
                           capture_output=True, text=True, env=env, timeout=args.timeout)
        rc, stdout, stderr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        rc, stdout, stderr = -1, "", f"timeout after {args.timeout} s"
    r: dict = {"id": case["id"], "rc": rc, "seconds": round(time.time() - t, 2),
               "stdout": stdout.strip(), "stderr": stderr.strip()}
    m = re.search(r"脸宽 (\d+) 像素", stdout)
    if m:
        r["app_face_width"] = int(m.group(1))
    if rc == 0 and out.exists():
        r["output"] = str(out)
        r["file"] = inspect_output(out)
        try:
            r["measure"] = measure.measure_file(out)
        except Exception as e:  # noqa: BLE001
            r["measure"] = {"verdict": "unreadable", "error": str(e)}
        if args.check:
            r["app_check"] = app_check(args.sbk, out, env)
    else:
        msg = stderr.strip() or stdout.strip()
        r["reason"] = reason_of(msg)
        m = re.search(r"宽约 (\d+) 像素", msg)
        if m and case.get("cheek_width"):
            n = int(m.group(1))
            true = case["cheek_width"]
            r["message_width"] = n
            r["message_width_ok"] = abs(n - true) <= WIDTH_IN_MESSAGE_TOLERANCE * true
    return r


def app_check(sbk: str, path: Path, env: dict) -> dict:
    p = subprocess.run([sbk, "photo", "check", "--kind", "card", "--json", str(path)],
                       capture_output=True, text=True, env=env, timeout=120)
    try:
        v = json.loads(p.stdout.strip().splitlines()[-1])
    except Exception:  # noqa: BLE001
        return {"rc": p.returncode, "error": (p.stderr or p.stdout)[:300]}
    g = v.get("geometry") or {}
    return {"rc": p.returncode, "passes": v.get("passes"),
            "failing": [f["code"] for f in v.get("findings", []) if f.get("fails")],
            "advice": [f["code"] for f in v.get("findings", []) if not f.get("fails")],
            "geometry": {k: (round(g[k], 1) if isinstance(g.get(k), (int, float)) else g.get(k))
                         for k in ("face_width", "hair_top", "eye_mid_x", "eye_line_above_bottom",
                                   "tilt", "eyes_found")} if g else None}


def classify(case: dict, r: dict) -> tuple[str, list[str]]:
    """The case's class and, for a failure, why."""
    exp = case["expected"]
    why: list[str] = []
    if r["rc"] == 0 and "file" in r:
        why += r["file"]["problems"]
        mv = r["measure"]
        if mv.get("verdict") in ("fail", "no_face", "unreadable"):
            why += [f"measure_{k}" for k in mv.get("failed", [])] or [f"measure_{mv.get('verdict')}"]
        if exp == "refuse":
            return "fixed_unjustified", [f"expected refuse ({case.get('reason')})"] + why
        return ("fixed_noncompliant" if why else "fixed_compliant"), why
    if r["rc"] == 0:
        return "fixed_noncompliant", ["exit 0 but no output file"]
    if exp == "fixable":
        return "refused_wrongly", [r.get("reason", "other")]
    if exp == "borderline":
        return "borderline_refused", []
    return "refused_justified", []


def is_failure(cls: str, why: list[str]) -> bool:
    return cls in ("fixed_noncompliant", "refused_wrongly", "fixed_unjustified")


def sanity(corpus: Path, manifest: dict, sbk: str, env: dict) -> list[dict]:
    """The measure on the 358x441 inputs whose geometry is known (studio files), beside the
    truth and `sbk photo check`."""
    rows = []
    for c in manifest["cases"]:
        if c["canvas"] != [358, 441] or c["format"] not in ("jpeg",) or "eye_mid" not in c:
            continue
        path = corpus / c["file"]
        m = measure.measure_file(path)
        chk = app_check(sbk, path, env)
        rows.append({"id": c["id"], "truth": {"face_width": c["cheek_width"],
                                              "eye_mid_x": c["eye_mid"][0], "eye_y": c["eye_mid"][1],
                                              "hair_top": c["hair_top"], "tilt": c["tilt"]},
                     "measure": {k: m.get(k) for k in ("face_width", "eye_mid_x", "eye_y",
                                                       "hair_top", "tilt", "verdict", "failed",
                                                       "unsure", "eyes_found")},
                     "app_check": chk})
    return rows


def bucket_pct(p: float | None) -> str:
    if p is None:
        return "n/a"
    edges = [10, 15, 20, 30, 45, 1000]
    lo = 0
    for e in edges:
        if p < e:
            return f"{lo}-{e}%" if e != 1000 else f"≥{lo}%"
        lo = e
    return "?"


def bucket_px(px: float | None) -> str:
    if px is None:
        return "n/a"
    edges = [112, 132, 200, 300, 600, 1000, 100000]
    lo = 0
    for e in edges:
        if px < e:
            return f"{lo}-{e} px" if e != 100000 else f"≥{lo} px"
        lo = e
    return "?"


def rate_table(title: str, groups: dict[str, list[tuple[str, bool]]]) -> list[str]:
    lines = [f"### {title}", "", "| group | cases | scored | pass | fixable: fixed ok | refuse: refused | borderline |",
             "|---|---|---|---|---|---|---|"]

    def sort_key(k: str):
        m = re.match(r"[^\d]*(\d+)", k)
        return (0, int(m.group(1)), k) if m else (1, 0, k)

    for k in sorted(groups, key=sort_key):
        items = groups[k]
        scored = [ok for exp, ok in items if exp != "borderline"]
        fx = [ok for exp, ok in items if exp == "fixable"]
        rf = [ok for exp, ok in items if exp == "refuse"]
        bl = sum(1 for exp, _ in items if exp == "borderline")

        def frac(v):
            return f"{sum(v)}/{len(v)}" if v else "–"

        pct = f"{100 * sum(scored) / len(scored):.0f}%" if scored else "–"
        lines.append(f"| {k} | {len(items)} | {len(scored)} | {pct} | {frac(fx)} | {frac(rf)} | {bl or '–'} |")
    lines.append("")
    return lines


def write_report(out: Path, manifest: dict, results: list[dict], sanity_rows: list[dict],
                 args, elapsed: float, commit: str | None) -> tuple[int, int]:
    by_id = {c["id"]: c for c in manifest["cases"]}
    counts: dict[str, int] = defaultdict(int)
    scored = passed = 0
    groups_canvas: dict = defaultdict(list)
    groups_pct: dict = defaultdict(list)
    groups_px: dict = defaultdict(list)
    groups_tag: dict = defaultdict(list)
    groups_src: dict = defaultdict(list)
    failures = []
    for r in results:
        c = by_id[r["id"]]
        counts[r["class"]] += 1
        exp = c["expected"]
        ok = not r["failure"]
        if exp != "borderline" or r["failure"]:
            scored += 1
            passed += ok
        item = (exp if not (exp == "borderline" and r["failure"]) else "fixable", ok)
        groups_canvas["x".join(map(str, c["canvas"]))].append(item)
        groups_pct[bucket_pct(c.get("face_pct"))].append(item)
        groups_px[bucket_px(c.get("cheek_width"))].append(item)
        groups_src[c["source"]].append(item)
        for t in c["tags"]:
            if t.startswith(("canvas_", "meta_", "wall_")) and t not in ("wall_blue", "wall_paleblue"):
                continue
            groups_tag[t].append(item)
        for t in c["tags"]:
            if t.startswith("meta_"):
                groups_tag[t].append(item)
        if r["failure"]:
            failures.append((c, r))
    md: list[str] = []
    md.append("# Card photo corpus: `sbk photo fix` report")
    md.append("")
    md.append(f"- binary: `{args.sbk}`" + (f" (commit {commit})" if commit else ""))
    md.append(f"- corpus: `{args.corpus}`, {len(results)} cases; run took {elapsed:.0f} s")
    pct = 100 * passed / scored if scored else 0
    md.append(f"- **scored cases passing: {passed}/{scored} ({pct:.1f}%)**; borderline cases "
              "(between the strict and lenient rule, see README) are not scored unless the app "
              "writes a non-compliant photo for them")
    md.append("")
    md.append("| class | cases |")
    md.append("|---|---|")
    for k in ("fixed_compliant", "fixed_noncompliant", "refused_wrongly", "refused_justified",
              "fixed_unjustified", "borderline_refused"):
        md.append(f"| {k} | {counts.get(k, 0)} |")
    md.append("")
    fixed = [r for r in results if r["rc"] == 0 and "file" in r]
    leaks = [r for r in fixed if r["file"]["metadata"]]
    md.append(f"Outputs written: {len(fixed)}; with a metadata segment (EXIF/XMP/ICC/IPTC/COM): "
              f"{len(leaks)}; off size/format: "
              f"{sum(1 for r in fixed if any(not p.startswith('metadata_') for p in r['file']['problems']))}; "
              f"failing the measure: {sum(1 for r in fixed if r['measure'].get('verdict') in ('fail', 'no_face'))}; "
              f"'unsure' in the measure (within tolerance of a band's end): "
              f"{sum(1 for r in fixed if r['measure'].get('verdict') == 'unsure')}")
    if args.check:
        agree = sum(1 for r in fixed if r.get("app_check", {}).get("passes") is True)
        md.append(f"; passing the app's own `photo check`: {agree}/{len(fixed)}")
    md.append("")
    measured = [r["measure"] for r in fixed if r["measure"].get("face_width") is not None]
    if measured:
        md.append("Measured on the outputs (measure.py), min / median / max, against the bands:")
        md.append("")
        md.append("| measure | band | min | median | max |")
        md.append("|---|---|---|---|---|")
        for key, band in (("face_width", "179–255"), ("eye_mid_x", "162–196"),
                          ("eye_y", "≤ 234"), ("hair_top", "7–21"), ("tilt", "±8°")):
            vals = sorted(m[key] for m in measured if m.get(key) is not None)
            if vals:
                md.append(f"| {key} | {band} | {vals[0]} | {vals[len(vals) // 2]} | {vals[-1]} |")
        md.append("")
    md += rate_table("By canvas size (upright)", groups_canvas)
    md += rate_table("By face width, % of canvas width (cheek to cheek)", groups_pct)
    md += rate_table("By face width in the original, px (cheek to cheek)", groups_px)
    md += rate_table("By variant", groups_tag)
    md += rate_table("By face (source)", groups_src)
    md.append("## Failures")
    md.append("")
    if not failures:
        md.append("None.")
    for c, r in failures:
        msg = (r["stderr"] or r["stdout"]).replace("\n", " ")
        detail = ", ".join(r["why"])
        extra = ""
        if r.get("message_width") is not None:
            extra = f"; width in message {r['message_width']} px vs true {c['cheek_width']:.0f} px"
        mv = r.get("measure")
        if mv and mv.get("verdict") not in (None, "pass"):
            extra += (f"; measured face {mv.get('face_width')} eye x {mv.get('eye_mid_x')} "
                      f"eye y {mv.get('eye_y')} hair {mv.get('hair_top')} tilt {mv.get('tilt')}")
        md.append(f"- `{c['id']}` ({c['expected']}{'/' + c['reason'] if c.get('reason') else ''}, "
                  f"face {c.get('cheek_width')} px = {c.get('face_pct')}%): **{r['class']}** "
                  f"[{detail}] — {msg[:300]}{extra}")
    md.append("")
    other = [(by_id[r["id"]], r) for r in results
             if r["class"] == "refused_justified" and not r["failure"]
             and r.get("reason") != by_id[r["id"]].get("reason")]
    if other:
        md.append("## Justified refusals that name another reason than the expected one")
        md.append("")
        for c, r in other:
            md.append(f"- `{c['id']}` expected {c['reason']}, app: {r.get('reason')} — "
                      f"{(r['stderr'] or r['stdout'])[:200]}")
        md.append("")
    unsure = [(by_id[r["id"]], r) for r in fixed if r["measure"].get("verdict") == "unsure"]
    if unsure:
        md.append("## Outputs within the measure's tolerance of a band's end ('unsure', counted as passing)")
        md.append("")
        for c, r in unsure:
            mv = r["measure"]
            md.append(f"- `{c['id']}`: {', '.join(mv['unsure'])} — face {mv.get('face_width')}, "
                      f"eye x {mv.get('eye_mid_x')}, eye y {mv.get('eye_y')}, hair {mv.get('hair_top')}, "
                      f"tilt {mv.get('tilt')}; app's own: {r.get('app_check', {}).get('geometry')}")
        md.append("")
    refusals = [(by_id[r["id"]], r) for r in results if r["rc"] != 0]
    with_width = [(c, r) for c, r in refusals if r.get("message_width") is not None]
    if with_width:
        off = [(c, r) for c, r in with_width if not r["message_width_ok"]]
        md.append("## Face widths named in refusals (`宽约 N 像素`) against the true width")
        md.append("")
        md.append(f"{len(with_width) - len(off)} of {len(with_width)} within "
                  f"{WIDTH_IN_MESSAGE_TOLERANCE:.0%} of the true cheek-to-cheek width in the original.")
        md.append("")
        md.append("| case | expected | named | true | named/true |")
        md.append("|---|---|---|---|---|")
        for c, r in with_width:
            md.append(f"| {c['id']} | {c['expected']}{'/' + c['reason'] if c.get('reason') else ''} | "
                      f"{r['message_width']} | {c['cheek_width']:.0f} | "
                      f"{r['message_width'] / c['cheek_width']:.2f}{'' if r['message_width_ok'] else ' ✗'} |")
        md.append("")
    both = [r for r in fixed if (r.get("app_check") or {}).get("geometry") and r["measure"].get("face_width")]
    if both:
        import statistics as st

        def med(vals):
            return f"{st.median(vals):+.1f}" if vals else "–"

        g = [(r["app_check"]["geometry"], r["measure"]) for r in both]
        md.append("## The measure beside the app's own `photo check` on the outputs")
        md.append("")
        md.append(f"{len(g)} outputs. Median differences (app − measure): eye x "
                  f"{med([a['eye_mid_x'] - m['eye_mid_x'] for a, m in g])} px, eye line "
                  f"{med([(441 - a['eye_line_above_bottom']) - m['eye_y'] for a, m in g])} px, hair top "
                  f"{med([a['hair_top'] - m['hair_top'] for a, m in g if a.get('hair_top') is not None and m.get('hair_top') is not None])} px; "
                  f"face width app/measure median {st.median([a['face_width'] / m['face_width'] for a, m in g]):.2f} "
                  f"(range {min(a['face_width'] / m['face_width'] for a, m in g):.2f}–"
                  f"{max(a['face_width'] / m['face_width'] for a, m in g):.2f}). By face:")
        md.append("")
        per: dict = defaultdict(list)
        for r in both:
            per[by_id[r["id"]]["source"]].append(r["app_check"]["geometry"]["face_width"] / r["measure"]["face_width"])
        for k in sorted(per):
            md.append(f"- {k}: app face width / measured cheek width = median {st.median(per[k]):.2f} over {len(per[k])} outputs")
        rejected = [(by_id[r["id"]], r) for r in both if r["app_check"].get("passes") is False]
        if rejected:
            md.append("")
            md.append("Photos `photo fix` wrote that its own `photo check` rejects:")
            md.append("")
            for c, r in rejected:
                md.append(f"- `{c['id']}`: check fails {', '.join(r['app_check']['failing'])} "
                          f"(app: {r['app_check']['geometry']}); measure: {r['measure']['verdict']}, face "
                          f"{r['measure']['face_width']}, eye x {r['measure']['eye_mid_x']}, tilt {r['measure']['tilt']}")
        md.append("")
    if sanity_rows:
        md.append("## Sanity check: the measure on the 358×441 inputs of known geometry")
        md.append("")
        md.append("| case | truth face / eye x / eye y / hair | measure | measure verdict | app check |")
        md.append("|---|---|---|---|---|")
        for s in sanity_rows:
            t, m, a = s["truth"], s["measure"], s["app_check"]
            md.append(f"| {s['id']} | {t['face_width']:.0f} / {t['eye_mid_x']:.0f} / {t['eye_y']:.0f} / "
                      f"{t['hair_top']:.0f} | {m.get('face_width')} / {m.get('eye_mid_x')} / "
                      f"{m.get('eye_y')} / {m.get('hair_top')} | {m.get('verdict')} "
                      f"{','.join(m.get('failed') or [])} | {'pass' if a.get('passes') else 'fail ' + ','.join(a.get('failing', []))} "
                      f"(face {(a.get('geometry') or {}).get('face_width')}) |")
        md.append("")
    slow = sorted(results, key=lambda r: -r["seconds"])[:5]
    md.append("Slowest `photo fix` runs: " + ", ".join(f"`{r['id']}` {r['seconds']} s" for r in slow))
    md.append("")
    (out / "report.md").write_text("\n".join(md))
    (out / "report.json").write_text(json.dumps({
        "sbk": args.sbk, "commit": commit, "corpus": str(args.corpus), "seconds": round(elapsed),
        "scored": scored, "passed": passed, "classes": counts,
        "cases": [{**{k: by_id[r["id"]].get(k) for k in ("file", "expected", "reason", "tags", "canvas",
                                                         "cheek_width", "face_pct")}, **r}
                  for r in results],
        "sanity": sanity_rows,
    }, indent=1, ensure_ascii=False))
    return scored, passed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sbk", required=True, help="the sbk binary to test")
    ap.add_argument("--corpus", required=True, type=Path, help="make_corpus.py's OUTDIR")
    ap.add_argument("--out", required=True, type=Path, help="where the report goes")
    ap.add_argument("--jobs", type=int, default=1, help="cases at once (default 1)")
    ap.add_argument("--min-pass", type=float, default=1.0,
                    help="least share of scored cases that must pass (0-1, default 1.0)")
    ap.add_argument("--only", help="run only the cases whose id contains this")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per photo fix")
    ap.add_argument("--no-check", dest="check", action="store_false",
                    help="do not also run `sbk photo check` on the outputs")
    ap.add_argument("--commit", help="the commit the binary was built from (for the report)")
    args = ap.parse_args()
    if not (os.path.isfile(args.sbk) and os.access(args.sbk, os.X_OK)):
        print(f"not an executable: {args.sbk}", file=sys.stderr)
        return 2
    args.sbk = os.path.abspath(args.sbk)
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    cases = manifest["cases"]
    if args.only:
        cases = [c for c in cases if args.only in c["id"]]
    args.out.mkdir(parents=True, exist_ok=True)
    outputs = args.out / "outputs"
    if outputs.exists():
        shutil.rmtree(outputs)
    outputs.mkdir()
    home = Path(tempfile.mkdtemp(prefix="sbk-photo-corpus-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SBK_", "XDG_"))}
    env.update({"HOME": str(home), "SBK_DATA_DIR": str(home / "data"),
                "XDG_DATA_HOME": str(home / "data-home"), "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_CACHE_HOME": str(home / "cache"), "SBK_CONFIG": str(home / "none.toml"),
                "LANG": "C.UTF-8"})
    t0 = time.time()
    results = []
    try:
        with cf.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            futs = {pool.submit(run_case, c, args, env, outputs): c for c in cases}
            for i, f in enumerate(cf.as_completed(futs), 1):
                c = futs[f]
                r = f.result()
                r["class"], r["why"] = classify(c, r)
                r["failure"] = is_failure(r["class"], r["why"])
                results.append(r)
                mark = "FAIL" if r["failure"] else "ok  "
                print(f"[{i:3d}/{len(cases)}] {mark} {c['id']:42s} {r['class']:20s} "
                      f"{r['seconds']:6.1f}s {','.join(r['why'])[:80]}", flush=True)
        order = {c["id"]: i for i, c in enumerate(cases)}
        results.sort(key=lambda r: order[r["id"]])
        sanity_rows = sanity(args.corpus, manifest, args.sbk, env) if not args.only else []
    finally:
        shutil.rmtree(home, ignore_errors=True)
    scored, passed = write_report(args.out, manifest, results, sanity_rows, args,
                                  time.time() - t0, args.commit)
    share = passed / scored if scored else 1.0
    print(f"{passed}/{scored} scored cases pass ({100 * share:.1f}%); report in {args.out}/report.md")
    return 0 if share >= args.min_pass else 1


if __name__ == "__main__":
    sys.exit(main())
