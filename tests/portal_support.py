"""The portal for tests: in process (`portal_app`, Starlette's TestClient) or as the real
`glotip portal` command on loopback (`PortalServer`), on folders of a test's own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import free_port, stop_process_group

GLOTIP = str(Path(sys.executable).parent / "glotip")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def write_config(folder: Path) -> Path:
    """A glotip.toml whose inbox, warehouse, reports and archive are all under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "glotip.toml"
    config.write_text(
        "[ingest]\n"
        f'inbox = "{folder / "inbox"}"\n'
        f'db = "{folder / "glotip.duckdb"}"\n'
        f'reports = "{folder / "reports"}"\n'
        f'archive = "{folder / "archive"}"\n'
        "settle_seconds = 0\n", encoding="utf-8")
    (folder / "inbox").mkdir(exist_ok=True)
    return config


def add_user(folder: Path, email: str, country: str | None = None) -> str:
    """`glotip portal add-user`, as the data team runs it; returns the secret it printed."""
    who = ["--team"] if country is None else ["--country", country]
    done = subprocess.run([GLOTIP, "portal", "add-user", "--email", email, *who,
                           "--portal-dir", str(folder / "portal")],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return re.search(r"secret \(shown once\): (\S+)", done.stdout).group(1)


def form_token(html: str) -> str:
    return CSRF.search(html).group(1)


def sign_in(client: httpx.Client, email: str, secret: str) -> httpx.Response:
    """Sign `client` in through the form, as a browser would; returns the home page."""
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"email": email, "secret": secret, "csrf": form_token(page.text)})
    return response


def loopback_client(url: str, **options) -> httpx.Client:
    """A client of the portal served on http://127.0.0.1 that keeps its cookies as a browser
    does there (browsers treat loopback as a secure origin and keep `Secure` cookies; httpx's
    cookie jar drops them over http): cookies set by a response go back with each request."""
    jar: dict[str, str] = {}

    def remember(response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    jar.pop(name, None)
                else:
                    jar[name] = morsel.value

    def send(request: httpx.Request) -> None:
        if jar:
            request.headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())

    # a new connection per request: uvicorn closes a connection idle for 5 s, and a request
    # sent on one at that instant fails ("Server disconnected") where a browser would retry it
    options.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
    client = httpx.Client(base_url=url, event_hooks={"request": [send], "response": [remember]}, **options)
    client.jar = jar
    return client


@dataclass
class PortalServer:
    """`glotip portal` on a free loopback port, on `folder`'s own config and records."""

    folder: Path
    port: int = field(default_factory=free_port)
    options: tuple[str, ...] = ()  # more options of `glotip portal`
    env: dict | None = None  # its environment (default: this process's)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.folder / "glotip.toml"

    def start(self, timeout: float = 60) -> PortalServer:
        if not self.config.exists():
            write_config(self.folder)
        log = (self.folder / "portal.log").open("w")
        # the config names every folder: no GLOTIP_DB & co. of the test session over it
        env = {name: value for name, value in (self.env or os.environ).items()
               if name not in ("GLOTIP_INBOX", "GLOTIP_DB", "GLOTIP_REPORTS", "GLOTIP_ARCHIVE")}
        self.process = subprocess.Popen(
            [GLOTIP, "portal", "--port", str(self.port), "--config", str(self.config),
             "--portal-dir", str(self.folder / "portal"), *self.options],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder, env=env)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/sign-in", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the portal did not start:\n" + (self.folder / "portal.log").read_text()[-3000:])
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process_group(self.process, seconds=10)

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
