"""A terminal for tests: a tmux session on its own server socket, driven with send-keys and
read with capture-pane."""
import os
import subprocess
import time
import uuid


class Pane:
    def __init__(self, width=140, height=80, env=None):
        self.socket = f"plumb-test-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, **(env or {})}
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), "bash --norc --noprofile")
        self.tmux("set-option", "-g", "status", "off")

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True,
                              env=self.env).stdout

    def run(self, command):
        """Types a shell command line and Enter."""
        self.tmux("send-keys", "-t", "t", "-l", command)
        self.tmux("send-keys", "-t", "t", "Enter")

    def keys(self, *keys, pause=0.15):
        """tmux key names (Tab, Enter, Escape, BTab, C-c, ...) or single characters."""
        for k in keys:
            self.tmux("send-keys", "-t", "t", k)
            time.sleep(pause)

    def type(self, text):
        self.tmux("send-keys", "-t", "t", "-l", text)

    def text(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "t"] + (["-e"] if escapes else [])
        return self.tmux(*args)

    def lines(self):
        return self.text().split("\n")

    def wait(self, predicate, timeout=30, what="the screen", settle=0.0):
        """The screen once `predicate` holds on it. With `settle`, also once the screen has not
        changed for that many seconds: tmux may show a big frame half drawn, as its bytes arrive."""
        end = time.time() + timeout
        while True:
            t = self.text()
            if predicate(t):
                if settle <= 0:
                    return t
                time.sleep(settle)
                again = self.text()
                if again == t:
                    return t
                continue
            if time.time() > end:
                raise AssertionError(f"timed out waiting for {what}; screen:\n{t}")
            time.sleep(0.1)

    def wait_for(self, needle, timeout=30):
        return self.wait(lambda t: needle in t, timeout, repr(needle))

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
