#!/usr/bin/env bash
# `sbk photo fix` on a 4000×3000 JPEG beside ImageMagick and libvips, on the same file in the
# same run (hyperfine: warm-up, then medians of repeated whole-command runs). Installs the
# peer tools from Debian's packages when they are missing. Target (issue 5): faster than
# ImageMagick, within 1.5× libvips.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! [ -x /usr/bin/convert ] || ! command -v vipsthumbnail >/dev/null || ! command -v hyperfine >/dev/null; then
  sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if apt-get install -y -qq imagemagick libvips-tools hyperfine >/dev/null
fi

cargo build --release -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A synthetic 4000×3000 phone photo (no real person), as the counter's camera makes them.
target/release/sbk photo sample "$work/in.jpg" --width 4000 --height 3000

hyperfine --warmup 3 --runs "${RUNS:-20}" --export-json "$work/result.json" --style basic \
  -n "sbk photo fix" "target/release/sbk photo fix $work/in.jpg $work/sbk.jpg" \
  -n "ImageMagick" "/usr/bin/convert $work/in.jpg -resize 358x441^ -gravity center -extent 358x441 -quality 90 $work/im.jpg" \
  -n "libvips" "vipsthumbnail $work/in.jpg -s 358x441 --smartcrop=centre -o $work/vips.jpg[Q=90]" >/dev/null

# Every output is checked by the same rule: a fix that does not pass does not count.
for f in sbk im vips; do
  printf '%s: ' "$f"; target/release/sbk photo check "$work/$f.jpg" | head -1 || true
done

python3 - "$work/result.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
sbk, im, vips = r["sbk photo fix"]["median"], r["ImageMagick"]["median"], r["libvips"]["median"]
print()
print("| command | median | ratio to sbk |")
print("|---|---|---|")
for name in ("sbk photo fix", "ImageMagick", "libvips"):
    m = r[name]["median"]
    print(f"| {name} | {m*1000:.1f} ms | {m/sbk:.2f}× |")
print()
print(f"sbk vs ImageMagick: {sbk/im:.2f}× ({'faster: met' if sbk < im else 'slower: MISSED'})")
print(f"sbk vs libvips:     {sbk/vips:.2f}× ({'met' if sbk <= 1.5*vips else 'MISSED'}; target ≤ 1.5×)")
PY
