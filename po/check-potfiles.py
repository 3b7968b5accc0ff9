#!/usr/bin/env python3
# check-potfiles.py — every file with translatable strings is in POTFILES.in
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A string marked for translation in a file that xgettext is never shown is
# silently left in English. This fails, naming the file, when a C file calls
# _(), N_(), C_(), NC_() or g_dngettext(), a .ui file marks a property
# translatable, or a data file has translatable fields, and POTFILES.in does
# not list it; and when POTFILES.in lists a file that does not exist.
# Prints TAP.
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
potfiles_path = os.path.join(root, 'po', 'POTFILES.in')

C_MARK = re.compile(r'\b(?:N?C?_|g_dngettext|ngettext|g_dpgettext2)\s*\(')
UI_MARK = re.compile(r'translatable="yes"')
DATA_MARKS = {
    '.desktop.in': re.compile(r'^(?:Name|GenericName|Comment|Keywords)=', re.M),
    '.metainfo.xml.in': re.compile(r'<(?:name|summary|p|li|caption)\b'),
    '.gschema.xml.in': re.compile(r'<(?:summary|description)\b'),
}


SOURCE_SUFFIXES = ('.c', '.h', '.ui') + tuple(DATA_MARKS)


def needs_translation(path):
    if not path.endswith(SOURCE_SUFFIXES):
        return False
    with open(os.path.join(root, path), encoding='utf-8') as f:
        text = f.read()
    if path.endswith(('.c', '.h')):
        return C_MARK.search(text) is not None
    if path.endswith('.ui'):
        return UI_MARK.search(text) is not None
    for suffix, mark in DATA_MARKS.items():
        if path.endswith(suffix):
            return mark.search(text) is not None
    return False


def candidates():
    for top in ('src', 'data'):
        for directory, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                yield os.path.relpath(os.path.join(directory, name), root)


with open(potfiles_path, encoding='utf-8') as f:
    listed = [line.strip() for line in f if line.strip() and not line.startswith('#')]

checks = []
for path in sorted(candidates()):
    if needs_translation(path):
        checks.append((path in listed, 'translatable strings of %s are in POTFILES.in' % path))
for path in listed:
    checks.append((os.path.exists(os.path.join(root, path)), 'POTFILES.in entry %s exists' % path))

print('1..%d' % len(checks))
failed = 0
for number, (ok, what) in enumerate(checks, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', number, what))
    failed += not ok
sys.exit(1 if failed else 0)
