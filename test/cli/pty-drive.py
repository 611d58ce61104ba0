#!/usr/bin/env python3
"""Runs a command under a pseudo-terminal and plays a conversation with it.

usage: pty-drive.py STEPS_JSON -- COMMAND [ARGS...]
STEPS_JSON is a list of ["expect", "text"] (wait until the output so far contains text,
counted from the end of the previous match), ["send", "text"] and ["sleep", "seconds"] steps. Everything the command
printed goes to stdout; the exit status is the command's (124 on a timeout, with a note).
"""
import json
import os
import pty
import select
import subprocess
import sys
import time

TIMEOUT = float(os.environ.get("PTY_DRIVE_TIMEOUT", "20"))


def main():
    sep = sys.argv.index("--")
    steps = json.loads(sys.argv[1])
    cmd = sys.argv[sep + 1 :]
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, close_fds=True, start_new_session=True)
    os.close(slave)
    out = b""
    cursor = 0
    deadline = time.time() + TIMEOUT

    def pump(wait):
        nonlocal out
        r, _, _ = select.select([master], [], [], wait)
        if not r:
            return True
        try:
            chunk = os.read(master, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        out += chunk
        return True

    try:
        for kind, text in steps:
            if kind == "send":
                os.write(master, text.encode())
                continue
            if kind == "sleep":
                end = time.time() + float(text)
                while time.time() < end:
                    pump(0.05)
                continue
            needle = text.encode()
            while out.find(needle, cursor) < 0:
                if time.time() > deadline or not pump(0.1) and proc.poll() is not None:
                    sys.stderr.write("[pty-drive: timed out waiting for %r]\n" % text)
                    proc.kill()
                    sys.exit(124)
            cursor = out.find(needle, cursor) + len(needle)
        while proc.poll() is None and time.time() < deadline:
            if not pump(0.1):
                break
        try:
            proc.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            sys.stderr.write("[pty-drive: the command did not exit]\n")
            sys.exit(124)
        while pump(0.05):
            pass
    finally:
        sys.stdout.write(out.decode(errors="replace"))
    sys.exit(proc.returncode)


main()
