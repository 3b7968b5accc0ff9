#!/usr/bin/python3
"""Natter in another language, as its users see it.

For each language of po/LINGUAS, starts the real app with LANGUAGE set and
its translations taken from the build tree ($NATTER_LOCALEDIR), and checks
through the accessibility bus that the first-run page, the main menu and
the Preferences dialog speak that language. The expected words come from
the compiled catalog itself, so the test follows the translations. Prints
TAP.

    test-translated.py NATTER LOCALEDIR LINGUAS
"""
import gettext
import os
import subprocess
import sys
import time

# The app keeps G_DEBUG=fatal-warnings; this process talks to apps that
# come and go, and the AT-SPI client library warns about such races.
app_environment = dict(os.environ)
os.environ["G_DEBUG"] = os.environ.get("G_DEBUG", "").replace("fatal-warnings", "")

import pyatspi  # noqa: E402 (after the environment is set)

natter, localedir, linguas = sys.argv[1:4]
with open(linguas, encoding="utf-8") as f:
    languages = [word for line in f for word in line.split("#", 1)[0].split()]
results = []


def check(ok, description):
    results.append((bool(ok), description))
    print(f"{'ok' if ok else 'not ok'} {len(results)} {description}", flush=True)
    return ok


def wait_for(find, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.1)
    return None


def find_app(pid):
    for app in pyatspi.Registry.getDesktop(0):
        if app is not None and app.name == "natter" and app.get_process_id() == pid:
            return app
    return None


def find(root, role, name):
    return pyatspi.findDescendant(
        root, lambda a: a is not None and a.getRoleName() == role and a.name == name)


def find_named(root, name):
    return pyatspi.findDescendant(root, lambda a: a is not None and a.name == name)


def find_actionable(root, name):
    # GTK 4.8 gives a menu button's name to the button inside it too; only
    # one of them can be pressed.
    def actionable(a):
        try:
            return a is not None and a.name == name and a.queryAction().nActions > 0
        except NotImplementedError:
            return False
    return pyatspi.findDescendant(root, actionable)


print(f"1..{len(languages) * 4}", flush=True)
for language in languages:
    catalog = gettext.translation("natter", localedir, languages=[language])
    _ = catalog.gettext

    def translated(text):
        # A translated label read aloud, without its mnemonic underscore.
        return _(text).replace("_", "")

    env = dict(app_environment, LANGUAGE=language, LANG="C.UTF-8", NATTER_LOCALEDIR=localedir,
               GTK_A11Y="atspi")
    for variable in ("NATTER_BASE_URL", "NATTER_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY",
                     "OPENROUTER_API_KEY"):
        env.pop(variable, None)
    process = subprocess.Popen([natter], env=env, stdout=sys.stderr, stderr=sys.stderr)
    try:
        app = wait_for(lambda: find_app(process.pid))
        welcome = app and wait_for(lambda: find_named(app, translated("Welcome to Natter")))
        check(welcome is not None and _("Welcome to Natter") != "Welcome to Natter",
              f"{language}: the first-run page says “{translated('Welcome to Natter')}”")

        menu_button = app and wait_for(lambda: find_actionable(app, translated("Main Menu")))
        check(menu_button is not None, f"{language}: the main menu is “{translated('Main Menu')}”")
        if menu_button is not None:
            menu_button.queryAction().doAction(0)
        item = app and wait_for(lambda: find_actionable(app, translated("_Preferences")), timeout=5)
        check(item is not None, f"{language}: the menu offers “{translated('_Preferences')}”")

        if item is not None:
            item.queryAction().doAction(0)
        dialog = app and wait_for(lambda: find_named(app, translated("Providers")), timeout=10)
        check(dialog is not None, f"{language}: Preferences show “{translated('Providers')}”")
    finally:
        process.terminate()
        process.wait(timeout=10)

failed = sum(1 for ok, _ in results if not ok)
sys.exit(1 if failed else 0)
