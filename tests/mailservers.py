"""Real mail servers on 127.0.0.1 for tests and the mail-loop bench: Debian's dovecot for IMAP
and POP3 (started as a non-root process on free high ports, from a config generated in a temp
dir: passwd-file users, Maildir, plaintext auth, no TLS) and an aiosmtpd submission server with
AUTH that delivers accepted mail into the same Maildir, so dovecot serves what it accepted.

IMAP and POP3 are two dovecot instances over the same Maildir, so a test can stop the IMAP server
(and start it again on the same port) while POP3 and SMTP keep answering.

dovecot is installed by `scripts/bootstrap.sh dev` (packages dovecot-imapd, dovecot-pop3d). Its
absence is an error, not a skip: the acceptance tests of the mail loop must run."""

from __future__ import annotations

import logging
import mailbox
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd 1.4 logs a deprecation warning (Session.login_data) on every AUTH: noise, not news.
logging.getLogger("mail.log").setLevel(logging.ERROR)

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
MISSING = ("dovecot is not installed (Debian packages dovecot-imapd and dovecot-pop3d): "
           "run `scripts/bootstrap.sh dev` (as root, or the apt-get line it prints) and run the tests again")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, *, up: bool, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return True
        except OSError:
            if not up:
                return True
        time.sleep(0.02)
    return False


class _Handler:
    """aiosmtpd handler: every accepted recipient that is a known user gets the message in its
    Maildir (new/), as a delivery agent would; an unknown recipient is refused at RCPT."""

    def __init__(self, servers: MailServers) -> None:
        self.servers = servers

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.lower() not in self.servers.users:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        for rcpt in envelope.rcpt_tos:
            if self.servers.delivery_delay > 0:
                # A slow mail system: accepted now, in the mailbox later.
                threading.Timer(self.servers.delivery_delay, self.servers.deliver, (rcpt, raw)).start()
            else:
                self.servers.deliver(rcpt, raw)
        self.servers.accepted += 1
        return "250 2.0.0 Ok: queued"


class MailServers:
    """SMTP submission (aiosmtpd, AUTH PLAIN/LOGIN without TLS on 127.0.0.1), IMAP and POP3
    (dovecot) over one Maildir tree. `users` maps address → password; the address is also the
    login name."""

    def __init__(self, users: dict[str, str] | Iterable[tuple[str, str]]) -> None:
        if not os.path.exists(DOVECOT):
            raise RuntimeError(MISSING)
        self.users = {a.lower(): p for a, p in dict(users).items()}
        self.tmp = Path(tempfile.mkdtemp(prefix="slaportal-mail-"))
        os.chmod(self.tmp, 0o755)  # mkdtemp's 0700 would keep the unprivileged dovecot out
        self.smtp_port = self.imap_port = self.pop3_port = 0
        self.accepted = 0
        self.delivery_delay = 0.0  # seconds between the 250 after DATA and the message in the Maildir
        self._smtp: Controller | None = None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        # Dovecot refuses to run its processes as root without root's setup; when the tests run as
        # root it runs as `nobody`, and the Maildir tree belongs to that user.
        self.as_root = os.geteuid() == 0
        pw = pwd.getpwnam("nobody") if self.as_root else pwd.getpwuid(os.geteuid())
        self.run_user, self.uid, self.gid = pw.pw_name, pw.pw_uid, pw.pw_gid
        import grp
        self.run_group = grp.getgrgid(self.gid).gr_name

    # -- files ---------------------------------------------------------------------------------
    def maildir(self, address: str) -> Path:
        return self.tmp / "mail" / address.lower()

    def _chown(self, path: Path) -> None:
        if self.as_root:
            os.chown(path, self.uid, self.gid)

    def _write_users(self) -> None:
        lines = [f"{a}:{{PLAIN}}{p}::::::" for a, p in self.users.items()]
        (self.tmp / "passwd").write_text("\n".join(lines) + "\n")
        for a in self.users:
            for sub in ("", "new", "cur", "tmp"):
                d = self.maildir(a) / sub
                d.mkdir(parents=True, exist_ok=True)
                self._chown(d)
        self._chown(self.tmp / "mail")

    def deliver(self, address: str, raw: bytes) -> None:
        """Put one message into the user's Maildir new/, as the mail system's delivery would."""
        md = mailbox.Maildir(str(self.maildir(address)), factory=None, create=False)
        key = md.add(message_from_bytes(raw))
        path = Path(md._path) / "new" / key  # type: ignore[attr-defined]
        self._chown(path)

    def messages(self, address: str) -> int:
        d = self.maildir(address)
        return len(os.listdir(d / "new")) + len(os.listdir(d / "cur"))

    def set_password(self, address: str, password: str) -> None:
        self.users[address.lower()] = password
        self._write_users()

    # -- dovecot -------------------------------------------------------------------------------
    def _config(self, proto: str, port: int) -> Path:
        base = self.tmp / proto
        (base / "run").mkdir(parents=True, exist_ok=True)
        (base / "state").mkdir(parents=True, exist_ok=True)
        for d in (base, base / "run", base / "state"):
            self._chown(d)
        other = "pop3" if proto == "imap" else "imap"
        conf = f"""
protocols = {proto}
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
instance_name = slaportal-{proto}-{os.getpid()}-{id(self)}
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {self.run_user}
default_internal_group = {self.run_group}
default_login_user = {self.run_user}
first_valid_uid = 1
mail_location = maildir:{self.tmp}/mail/%u
mail_max_userip_connections = 10000
default_process_limit = 2000
default_client_limit = 6000
default_vsz_limit = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.tmp}/mail/%u
}}
service {proto}-login {{
  chroot =
  service_count = 0
  process_min_avail = 2
  client_limit = 2000
  inet_listener {proto} {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener {proto}s {{
    port = 0
  }}
}}
service {other}-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
service imap {{
  process_limit = 2000
}}
service pop3 {{
  process_limit = 2000
}}
"""
        path = base / "dovecot.conf"
        path.write_text(conf)
        self._chown(path)
        return path

    def _dovecot_start(self, proto: str, port: int) -> None:
        conf = self._config(proto, port)
        cmd = [DOVECOT, "-F", "-c", str(conf)]
        if self.as_root:
            cmd = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", *cmd]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True)
        self._procs[proto] = proc
        if not _wait_port(port, up=True):
            proc.kill()
            log = (self.tmp / proto / "dovecot.log")
            err = (proc.stderr.read().decode() if proc.stderr else "")
            raise RuntimeError(f"dovecot ({proto}) did not start on port {port}: {err}\n"
                               f"{log.read_text() if log.exists() else ''}")

    def _dovecot_stop(self, proto: str) -> None:
        proc = self._procs.pop(proto, None)
        if proc is None:
            return
        # The whole process group (master, logins, sessions) at once: the master alone would wait
        # for its children to wind down, seconds per stop.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        port = self.imap_port if proto == "imap" else self.pop3_port
        _wait_port(port, up=False)

    def imap_stop(self) -> None:
        self._dovecot_stop("imap")

    def imap_start(self) -> None:
        self._dovecot_start("imap", self.imap_port)

    # -- SMTP ----------------------------------------------------------------------------------
    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace").lower()
            password = auth_data.password.decode("utf-8", "replace")
            if self.users.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    # -- all -----------------------------------------------------------------------------------
    def start(self) -> MailServers:
        self._write_users()
        self.imap_port, self.pop3_port = self.imap_port or free_port(), self.pop3_port or free_port()
        self._dovecot_start("imap", self.imap_port)
        self._dovecot_start("pop3", self.pop3_port)
        self.smtp_port = self.smtp_port or free_port()
        self._smtp = Controller(_Handler(self), hostname="127.0.0.1", port=self.smtp_port,
                                authenticator=self._authenticate, auth_require_tls=False,
                                server_hostname="mail.test", ready_timeout=10)
        self._smtp.start()
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        for proto in list(self._procs):
            self._dovecot_stop(proto)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> MailServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
