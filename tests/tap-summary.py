#!/usr/bin/env python3
"""Counts test cases in meson's testlog.json and prints "N passed, N failed".

meson counts test programs; people and CI want the cases inside them, which
the TAP output of each g_test program lists. A program that failed without
reporting a failing case (a crash, a timeout) counts as one failure.
"""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        test = json.loads(line)
        output = test.get("stdout") or ""
        skip = len(re.findall(r"^ok \d+.*# SKIP", output, re.M))
        ok = len(re.findall(r"^ok \d+", output, re.M)) - skip
        not_ok = len(re.findall(r"^not ok \d+", output, re.M))
        passed += ok
        skipped += skip
        failed += not_ok
        result_ok = test.get("result") in ("OK", "SKIP", "EXPECTEDFAIL")
        if not result_ok and not_ok == 0:
            failed += 1
        elif result_ok and ok + skip + not_ok == 0:
            passed += 1  # a check that is not a TAP program, such as a validator

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
