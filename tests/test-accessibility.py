#!/usr/bin/python3
"""Natter through the accessibility bus, as a screen reader user meets it.

Starts the real app against the fake provider, finds the composer and the
Send button by their accessible names, sends a message, reads the streamed
answer back through AT-SPI, and checks that Stop takes Send's place while
the answer streams. Prints TAP.

    test-accessibility.py NATTER NATTER_FAKE_PROVIDER
"""
import os
import subprocess
import sys
import time

# The app keeps G_DEBUG=fatal-warnings; this process talks to apps that
# come and go, and the AT-SPI client library warns about such races (an
# object gone before its cache was read).
app_environment = dict(os.environ)
os.environ["G_DEBUG"] = os.environ.get("G_DEBUG", "").replace("fatal-warnings", "")

import pyatspi  # noqa: E402 (after the environment is set)

natter, fake_provider = sys.argv[1:3]
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


def find_app(pid=None):
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is not None and app.name == "natter" and (pid is None or app.get_process_id() == pid):
            return app
    return None


def find(app, role, name):
    return pyatspi.findDescendant(
        app, lambda a: a is not None and a.getRoleName() == role and a.name == name)


def sensitive(accessible):
    return accessible is not None and accessible.getState().contains(pyatspi.STATE_SENSITIVE)


def answer_text(app):
    answers = pyatspi.findAllDescendants(
        app, lambda a: a is not None and a.name == "Answer" and a.getRoleName() == "text")
    return "".join(a.queryText().getText(0, -1) for a in answers)


provider = subprocess.Popen([fake_provider, "--tokens", "60", "--interval-ms", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
base_url = provider.stdout.readline().strip()
env = dict(app_environment, NATTER_BASE_URL=base_url, NATTER_MODEL="natter-fake-1")
app_process = subprocess.Popen([natter], env=env, stdout=sys.stderr)

print("1..9", flush=True)
try:
    app = wait_for(find_app)
    check(app is not None, "Natter is on the accessibility bus")
    composer = wait_for(lambda: find(app, "text", "Message"))
    check(composer is not None, "the composer is a text field named Message")
    send = wait_for(lambda: find(app, "push button", "Send"))
    check(send is not None, "the Send button is named Send")

    composer.queryEditableText().setTextContents("Hello from a screen reader")
    time.sleep(0.3)
    send.queryAction().doAction(0)

    stop = wait_for(lambda: (lambda s: s if sensitive(s) else None)(find(app, "push button", "Stop")))
    check(stop is not None, "Stop, named Stop, can be pressed while the answer streams")
    partial = wait_for(lambda: answer_text(app))
    check(partial and partial.startswith("Lorem"), "the answer is readable through AT-SPI as it streams")
    done = wait_for(lambda: not sensitive(find(app, "push button", "Stop")), timeout=60)
    final = answer_text(app)
    # On a slow build the text read while streaming may already be most of
    # it: the complete answer holds it, and is at least as long.
    check(done and final.startswith(partial.rstrip()) and len(final) >= len(partial),
          "the answer grows until it is complete")
    composer.queryEditableText().setTextContents("Next")
    check(wait_for(lambda: sensitive(find(app, "push button", "Send"))),
          "Send comes back when the answer is complete")
finally:
    app_process.terminate()
    provider.terminate()
    app_process.wait(timeout=10)
    provider.wait(timeout=10)

# First run: nothing configured, no provider in the environment. The app
# opens on its welcome page, which offers the providers in one click.
env = {k: v for k, v in os.environ.items()
       if not k.startswith(("NATTER_", "OPENAI_", "OPENROUTER_"))}
first_run = subprocess.Popen([natter], env=env, stdout=sys.stderr)
try:
    app = wait_for(lambda: find_app(first_run.pid))
    # GTK 4.8 joins a labelled button's own label and its child's in the
    # accessible name ("Use OpenRouter Use OpenRouter"): match the start.
    openrouter = wait_for(lambda: pyatspi.findDescendant(
        app, lambda a: a is not None and a.getRoleName() == "push button"
        and a.name.startswith("Use OpenRouter"))) if app else None
    check(openrouter is not None, "the first run offers OpenRouter")
    check(find(app, "text", "Message") is None or not sensitive(find(app, "push button", "Send")),
          "the first run cannot send anywhere yet")
finally:
    first_run.terminate()
    first_run.wait(timeout=10)

sys.exit(0 if all(ok for ok, _ in results) and len(results) == 9 else 1)
