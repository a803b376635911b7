"""The README's command-line walk-through, run as written: the shell block between the walkthrough
markers (with the printed password and token pasted in, and the debug binary instead of the release
one), then the box-simulator lines, against a fresh `serve --demo`."""

import os
import re
import subprocess
import tempfile
import threading
import time

from support import BIN, ROOT, Server


def block(text, name):
    m = re.search(rf"<!-- {name}:begin -->\s*```[a-z]*\n(.*?)```\s*<!-- {name}:end -->", text, re.S)
    assert m, f"README has no {name} block"
    return m.group(1)


class Reader:
    def __init__(self, stream):
        self.text = ""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for chunk in iter(lambda: stream.read1(4096), b""):
            with self.lock:
                self.text += chunk.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                m = re.search(pattern, self.text)
            if m:
                return m
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} did not appear; output:\n{self.text}")


def test_theReadmeWalkthrough_registersDeliversLoadsAndCollects_asWritten(gateway):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = block(readme, "walkthrough")
    dialogue = block(readme, "walkthrough-box-sim").strip().splitlines()
    server = Server("walkthrough", gateway)
    try:
        assert server.box_token, "serve --demo printed no box token"
        # Paste what make run printed, as the README asks; everything else runs as written.
        script = re.sub(r"^PB=.*$", f"PB={server.url}", script, count=1, flags=re.M)
        script = re.sub(r"^PASSWORD='…'", f"PASSWORD='{server.passwords['sachbearbeitung']}'", script, count=1, flags=re.M)
        script = re.sub(r"^TOKEN='…'", f"TOKEN='{server.box_token}'", script, count=1, flags=re.M)
        script = script.replace(".build/release/pickupbox", str(BIN))
        assert "'…'" not in script
        with tempfile.TemporaryDirectory() as work:
            env = dict(os.environ, XDG_STATE_HOME=work)
            shell = subprocess.Popen(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = Reader(shell.stdout)
            try:
                vn = out.wait_for(r"Vorgangsnummer (\S+), status page").group(1)
                out.wait_for(r"\nmatched\n")
                out.wait_for(r"box simulator ready")
                out.wait_for(r"to_load compartment \d+ documents L01X00T47")
                before = len(gateway.messages)
                for line in dialogue:
                    if line.startswith("<the PIN"):
                        line = gateway.pin_for("+4915123456789", after=before)
                    shell.stdin.write((line + "\n").encode())
                    shell.stdin.flush()
                    if line.startswith("load "):
                        out.wait_for(r"closing compartment \d+: ready_in_box")
                shell.stdin.close()
                assert shell.wait(timeout=60) == 0, out.text
            finally:
                if shell.poll() is None:
                    shell.kill()
            out.wait_for(r"door closed: collected")
            session = server.login_api("sachbearbeitung")
            status, page, _ = server.api("GET", f"/api/v1/applications?vorgangsnummer={vn}", session=session)
            assert status == 200 and page["items"][0]["state"] == "collected", page
            # The status page the walk-through points to says so.
            status, html, _ = server.api("GET", f"/status?vn={vn}")
            assert "Ihr Dokument wurde abgeholt." in html
    finally:
        server.stop()
