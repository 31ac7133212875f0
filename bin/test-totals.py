#!/usr/bin/env python3
"""Prints one line with the totals of the Surefire reports under ROOT written after SINCE_FILE's
modification time: the reports of this run only, not those an earlier run left in a module that
did not run this time."""
import glob, os, sys, xml.etree.ElementTree as ET

root, since_file = sys.argv[1], sys.argv[2]
since = os.path.getmtime(since_file)
t = f = e = s = 0
for p in glob.glob(os.path.join(root, '**/target/surefire-reports/TEST-*.xml'), recursive=True):
    if os.path.getmtime(p) < since:
        continue
    r = ET.parse(p).getroot()
    t += int(r.get('tests', 0)); f += int(r.get('failures', 0)); e += int(r.get('errors', 0)); s += int(r.get('skipped', 0))
print(f"[INFO] Results, all modules: Tests run: {t}, Failures: {f}, Errors: {e}, Skipped: {s}")
