#!/usr/bin/env python3
"""Regenerate data/gb2260.tsv from python-stdnum's national region table.

    pip download --no-deps -d /tmp/stdnum python-stdnum==2.2
    python3 data/tools/gen_gb2260.py /tmp/stdnum/python_stdnum-2.2-py3-none-any.whl > data/gb2260.tsv

The table in `stdnum/cn/loc.dat` is compiled from the Chinese Wikipedia lists of
PRC administrative division codes (GB/T 2260), with the years each code was in
use.  We keep every code ever used, because an ID number keeps the region code
it was first issued under: a code retired in 2010 is still a valid ID prefix.
"""
import re
import sys
import zipfile

SKIP_PREFECTURE = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
ENTRY = re.compile(r"\[(\d*)-(\d*)\](.*)")


def last_name(raw):
    """'[-1991]东郊区,[1992-]东丽区' -> ('东丽区', '') ; '[-2010]崇文区' -> ('崇文区', '2010')."""
    parts = raw.split(",")
    m = ENTRY.fullmatch(parts[-1])
    if m:
        return m.group(3), m.group(2)
    return parts[-1], ""


def main(path):
    with zipfile.ZipFile(path) as z:
        text = z.read("stdnum/cn/loc.dat").decode("utf-8")
    rows = []
    province = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            code, rest = line.split(" ", 1)
            province = (code, re.search(r'province="([^"]*)"', rest).group(1))
            continue
        code, rest = line.strip().split(" ", 1)
        raw = re.search(r'county="([^"]*)"', rest).group(1)
        name, until = last_name(raw)
        rows.append((province[0] + code, province[1], name, until))
    names = {code: name for code, _, name, _ in rows}
    print("# GB/T 2260 administrative division codes, current and retired (every code an ID number may carry).")
    print("# Source: stdnum/cn/loc.dat in the PyPI package python-stdnum 2.2, compiled from the Chinese")
    print("# Wikipedia lists of PRC division codes. Regenerate with data/tools/gen_gb2260.py.")
    print("# Columns: code, name, full name, last year in use (empty = still in use).")
    print("code\tname\tfull_name\tuntil")
    for code, prov, name, until in rows:
        if code.endswith("0000"):
            full = prov
        elif code.endswith("00"):
            full = prov + ("" if name in SKIP_PREFECTURE else name)
        else:
            pref = names.get(code[:4] + "00", "")
            full = prov + ("" if pref in SKIP_PREFECTURE or pref == prov else pref) + name
        print(f"{code}\t{name}\t{full}\t{until}")


if __name__ == "__main__":
    main(sys.argv[1])
