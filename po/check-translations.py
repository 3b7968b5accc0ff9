#!/usr/bin/env python3
# check-translations.py — every language in LINGUAS is valid and complete
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# For each language: `msgfmt --check` (syntax, headers, format strings that
# match their msgid), and `msgcmp` against a template extracted from the
# sources now, with the keywords of meson's glib preset, so that a string
# added to the code and not translated fails here. Prints TAP.
import os
import subprocess
import sys
import tempfile

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
po_dir = os.path.join(root, 'po')

KEYWORDS = ['_', 'N_', 'C_:1c,2', 'NC_:1c,2', 'g_dcgettext:2', 'g_dngettext:2,3',
            'g_dpgettext2:2c,3']


def languages():
    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as f:
        for line in f:
            for word in line.split('#', 1)[0].split():
                yield word


def make_template(path):
    with open(os.path.join(po_dir, 'POTFILES.in'), encoding='utf-8') as f:
        sources = [line.strip() for line in f if line.strip() and not line.startswith('#')]
    command = ['xgettext', '--from-code=UTF-8', '--add-comments', '--output', path,
               '--directory', root, '--package-name=natter']
    command += ['--keyword=' + k for k in KEYWORDS]
    command += sources
    subprocess.run(command, check=True, capture_output=True, text=True)


checks = []
langs = list(languages())
with tempfile.TemporaryDirectory() as tmp:
    template = os.path.join(tmp, 'natter.pot')
    make_template(template)
    for lang in langs:
        po = os.path.join(po_dir, lang + '.po')
        check = subprocess.run(['msgfmt', '--check', '--output-file=/dev/null', po],
                               capture_output=True, text=True)
        checks.append((check.returncode == 0, '%s.po passes msgfmt --check' % lang, check.stderr))
        compare = subprocess.run(['msgcmp', po, template], capture_output=True, text=True)
        checks.append((compare.returncode == 0,
                       '%s.po translates every string of the sources' % lang, compare.stderr))

if not checks:
    print('1..0 # SKIP no languages in LINGUAS')
    sys.exit(0)
print('1..%d' % len(checks))
failed = 0
for number, (ok, what, detail) in enumerate(checks, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', number, what))
    if not ok:
        for line in detail.strip().splitlines()[:20]:
            print('# ' + line)
    failed += not ok
sys.exit(1 if failed else 0)
