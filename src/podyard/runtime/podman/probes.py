"""PodProber: runs one probe check inside a pod on Podman.

``exec`` goes through libpod's exec API (create, start over a hijacked connection,
inspect for the exit code): no podman process per probe. ``tcpSocket`` and
``httpGet`` connect from the pod's own network namespace, so they reach what the pod
reaches (its loopback included, nothing of the host's) and resolve names as the pod
does: its hosts file, then the nameservers of its resolv.conf. Only the socket is made
inside the namespace, by one dedicated thread that enters it and comes straight back
(a socket keeps the namespace it was made in); the traffic runs on the event loop.

A check that fails, times out or finds the pod stopped is a failed ``ProbeResult``;
only an unreachable Podman raises, so its outage never counts against a pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import h11

from podyard.domain.probes import USER_AGENT, ProbeCheck, ProbeResult, http_ok
from podyard.runtime.podman.client import API, LibpodClient, NotFoundInRuntime
from podyard.runtime.podman.hijack import hijack
from podyard.runtime.protocol import RuntimeFailure

OUTPUT_KEEP = 1024  # of an exec's output, for the failure message; the rest is read and dropped
RESPONSE_HEAD_MAX = 16 * 1024  # an HTTP response's status line and headers
READ_CHUNK = 4096
FILE_MAX = 64 * 1024  # of a pod's hosts file and resolv.conf (the pod can write them)
CLONE_NEWNET = 0x40000000
_HOME_NS = "/proc/thread-self/ns/net"


class _Failed(Exception):
    """The check failed; ``message`` says why (for the pod's events)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _timed_out(check: ProbeCheck) -> str:
    return f"timed out after {check.timeout_seconds:g}s"


def _unavailable(e: RuntimeFailure) -> bool:
    return e.reason == "RuntimeUnavailable"


@dataclass(frozen=True)
class _PodNet:
    """Where a running pod's network lives, from its infra container."""

    netns: str
    hosts: str
    resolv: str
    inode: int  # of the namespace: a reused pid in another namespace is not taken for it

    def current(self) -> bool:
        try:
            return os.stat(self.netns).st_ino == self.inode
        except OSError:
            return False


class PodProber:
    def __init__(
        self,
        api: LibpodClient,
        kill_exec: Callable[[str], Awaitable[None]],
        pod_files: Callable[[str], tuple[Path, Path]],
    ) -> None:
        self.api = api
        self._pod_files = pod_files
        self._kill_exec = kill_exec
        self._nets: dict[str, _PodNet] = {}  # by infra container name
        self._sockets = NetnsSockets()

    async def probe(self, check: ProbeCheck, *, container: str, infra: str, pod_ip: str) -> ProbeResult:
        """Run ``check``: ``container`` and ``infra`` are Podman's container names."""
        try:
            if check.kind == "exec":
                return await self._exec(container, check)
            return await self._connect_check(infra, check, pod_ip)
        except _Failed as e:
            return ProbeResult(False, e.message)

    # -- exec ---------------------------------------------------------------------------------

    async def _exec(self, container: str, check: ProbeCheck) -> ProbeResult:
        spec = {
            "Cmd": list(check.command),
            "AttachStdin": False,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": False,
        }
        output = bytearray()
        exec_id: str | None = None
        try:
            async with asyncio.timeout(check.timeout_seconds):
                created = await self.api.json("POST", f"/containers/{container}/exec", json=spec)
                exec_id = str(created["Id"])
                start = {"Detach": False, "Tty": False}
                stream = await hijack(self.api.socket_path, f"{API}/exec/{exec_id}/start", start, False)
                try:
                    while (frame := await stream.read()) is not None:
                        room = OUTPUT_KEEP - len(output)
                        if room > 0:
                            output += frame[1][:room]
                finally:
                    await stream.close()
        except TimeoutError:
            if exec_id is not None:
                await self._kill_exec(exec_id)
            raise _Failed(_timed_out(check)) from None
        except asyncio.CancelledError:
            # The caller gave up on the probe (the pod is going away): leave no process behind.
            if exec_id is not None:
                with contextlib.suppress(Exception):
                    await self._kill_exec(exec_id)
            raise
        except RuntimeFailure as e:
            if _unavailable(e):
                raise
            raise _Failed(e.message) from None
        code = await self._exit_code(exec_id)
        if code == 0:
            return ProbeResult(True)
        text = output.decode(errors="replace").strip()
        said = "the command's exit status is unknown" if code is None else f"command exited with {code}"
        return ProbeResult(False, said + (f": {text}" if text else ""))

    async def _exit_code(self, exec_id: str) -> int | None:
        # The stream ends when the process does; libpod may record its exit a moment later.
        for _ in range(50):
            try:
                info = await self.api.json("GET", f"/exec/{exec_id}/json")
            except NotFoundInRuntime:
                return None
            if not info.get("Running"):
                code = info.get("ExitCode")
                return int(code) if code is not None else None
            await asyncio.sleep(0.02)
        return None

    # -- tcpSocket and httpGet, from the pod's network namespace -----------------------------

    async def _connect_check(self, infra: str, check: ProbeCheck, pod_ip: str) -> ProbeResult:
        host = check.host or pod_ip
        try:
            async with asyncio.timeout(check.timeout_seconds):
                net = await self._pod_net(infra)
                address = await self._resolve(net, host, check.timeout_seconds)
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                where = f"[{address}]:{check.port}" if family == socket.AF_INET6 else f"{address}:{check.port}"
                with await self._socket(net, family, socket.SOCK_STREAM) as sock:
                    try:
                        await asyncio.get_running_loop().sock_connect(sock, (address, check.port))
                    except ConnectionRefusedError:
                        raise _Failed(f"dial tcp {where}: connection refused") from None
                    except (OSError, OverflowError) as e:
                        raise _Failed(f"dial tcp {where}: {getattr(e, 'strerror', None) or e}") from None
                    if check.kind == "tcpSocket":
                        return ProbeResult(True)
                    status = await _http_status(sock, check, host)
        except TimeoutError:
            raise _Failed(_timed_out(check)) from None
        except RuntimeFailure as e:
            if _unavailable(e):
                raise
            raise _Failed(e.message) from None
        if http_ok(status):
            return ProbeResult(True)
        return ProbeResult(False, f"HTTP probe failed with statuscode: {status}")

    async def _pod_net(self, infra: str) -> _PodNet:
        known = self._nets.get(infra)
        # A stopped pod loses its namespace; started again, it has a new one.
        if known is not None and known.current():
            return known
        for name in [n for n, net in self._nets.items() if not net.current()]:
            del self._nets[name]
        try:
            detail = await self.api.json("GET", f"/containers/{infra}/json")
        except NotFoundInRuntime:
            raise _Failed("the pod does not exist in the runtime") from None
        # The pod's namespace has no file of Podman's (it is made without a network, see
        # podyard.network): it is the infra process's.
        state = detail.get("State") or {}
        if not state.get("Running") or not state.get("Pid"):
            raise _Failed("the pod is not running")
        sandbox = f"/proc/{state['Pid']}/ns/net"
        try:
            inode = os.stat(sandbox).st_ino
        except OSError:
            raise _Failed("the pod is not running") from None
        hosts, resolv = self._pod_files(infra.removesuffix("-infra"))
        net = _PodNet(sandbox, str(hosts), str(resolv), inode)
        self._nets[infra] = net
        return net

    async def _socket(self, net: _PodNet, family: int, kind: int) -> socket.socket:
        try:
            sock = await self._sockets.make(net.netns, family, kind)
        except FileNotFoundError:
            raise _Failed("the pod is not running") from None
        except OSError as e:
            raise _Failed(f"cannot enter the pod's network namespace: {e}") from None
        sock.setblocking(False)
        return sock

    async def _resolve(self, net: _PodNet, host: str, timeout: float) -> str:
        """An address literal as it is; a name as the pod resolves it (IPv4)."""
        with contextlib.suppress(ValueError):
            return str(ipaddress.ip_address(host))
        hosts, conf = await asyncio.to_thread(_read_files, net)
        found = _from_hosts(hosts, host)
        if found:
            return found
        resolver = _Resolv.parse(conf)
        per_server = timeout / len(resolver.nameservers)
        for name in resolver.candidates(host):
            for server in resolver.nameservers:
                try:
                    async with asyncio.timeout(per_server):
                        answer = await self._query(net, server, name)
                except _NoSuchName:
                    break  # the name does not exist: try the next candidate
                except (TimeoutError, OSError, dns.exception.DNSException):
                    continue  # this server did not answer: ask the next
                if answer:
                    return answer
                break  # the name exists without an address: try the next candidate
        raise _Failed(f"cannot resolve {host}")

    async def _query(self, net: _PodNet, server: str, name: str) -> str | None:
        """The first A record of ``name`` from ``server`` (None: the name has none)."""
        loop = asyncio.get_running_loop()
        query = dns.message.make_query(name, dns.rdatatype.A)
        family = socket.AF_INET6 if ":" in server else socket.AF_INET
        with await self._socket(net, family, socket.SOCK_DGRAM) as sock:
            # Connected, the socket takes replies from this server only.
            await loop.sock_connect(sock, (server, 53))
            await loop.sock_sendall(sock, query.to_wire())
            while True:
                data = await loop.sock_recv(sock, 65535)
                with contextlib.suppress(dns.exception.DNSException):
                    reply = dns.message.from_wire(data)
                    if query.is_response(reply):
                        break
        if reply.rcode() == dns.rcode.NXDOMAIN:
            raise _NoSuchName(name)
        if reply.rcode() != dns.rcode.NOERROR:
            raise dns.exception.DNSException(f"{server} answered {dns.rcode.to_text(reply.rcode())}")
        for rrset in reply.answer:
            if rrset.rdtype == dns.rdatatype.A:
                for rdata in rrset:
                    return str(rdata.address)
        return None


class _NoSuchName(Exception):
    pass


async def _http_status(sock: socket.socket, check: ProbeCheck, host: str) -> int:
    """GET ``check.path`` on the connected socket; the response's status."""
    tls = None
    server_hostname = None
    if check.scheme == "https":
        tls = _insecure_tls()
        # SNI names a host name, never an address (as Go's client, which kubelet uses).
        server_hostname = "" if _is_address(host) else host
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=RESPONSE_HEAD_MAX)
    try:
        request = conn.send(h11.Request(method="GET", target=check.path, headers=_headers(check, host)))
        request += conn.send(h11.EndOfMessage()) or b""
    except h11.ProtocolError as e:
        raise _Failed(f"cannot make the HTTP request: {e}") from None
    writer: asyncio.StreamWriter | None = None
    try:
        reader, writer = await asyncio.open_connection(sock=sock, ssl=tls, server_hostname=server_hostname)
        writer.write(request)
        await writer.drain()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(READ_CHUNK))
            elif isinstance(event, h11.Response):
                return int(event.status_code)
            elif isinstance(event, h11.ConnectionClosed):
                raise _Failed("the server closed the connection without a response")
            # else an informational (1xx) response: the real one follows
    except h11.ProtocolError as e:
        raise _Failed(f"bad HTTP response: {e}") from None
    except OSError as e:
        raise _Failed(f"HTTP probe failed: {e.strerror or e}") from None
    finally:
        # Connection: close, and only the status is wanted: no waiting for the server's end.
        if writer is not None:
            writer.close()


_OURS = ("connection", "content-length", "transfer-encoding")  # a GET with Connection: close


def _headers(check: ProbeCheck, host: str) -> list[tuple[str, str]]:
    given = {name.lower() for name, _ in check.headers}
    hostport = f"[{host}]:{check.port}" if ":" in host else f"{host}:{check.port}"
    headers = [(n, v) for n, v in check.headers if n.lower() not in _OURS]
    defaults = [("Host", hostport), ("User-Agent", USER_AGENT), ("Accept", "*/*")]
    # The user's own Host, User-Agent and Accept win over the defaults, as in kubelet.
    return [*(d for d in defaults if d[0].lower() not in given), *headers, ("Connection", "close")]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@functools.cache
def _insecure_tls() -> ssl.SSLContext:
    # As kubelet: an https probe checks that TLS works, not whose certificate it is.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# -- names, as the pod resolves them -----------------------------------------------------------


def _read_files(net: _PodNet) -> tuple[str, str]:
    def read(path: str) -> str:
        if not path:
            return ""
        try:
            with open(path, "rb") as f:
                return f.read(FILE_MAX).decode(errors="replace")
        except OSError:
            return ""

    return read(net.hosts), read(net.resolv)


def _from_hosts(text: str, host: str) -> str | None:
    """The first IPv4 address the hosts file gives ``host``."""
    wanted = host.rstrip(".").lower()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or wanted not in (n.lower() for n in fields[1:]):
            continue
        with contextlib.suppress(ValueError):
            return str(ipaddress.IPv4Address(fields[0]))
    return None


@dataclass
class _Resolv:
    nameservers: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    ndots: int = 1

    @classmethod
    def parse(cls, text: str) -> _Resolv:
        conf = cls()
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split(";", 1)[0].split()
            if len(fields) < 2:
                continue
            key, values = fields[0], fields[1:]
            if key == "nameserver" and _is_address(values[0]):
                conf.nameservers.append(values[0])
            elif key in ("search", "domain"):
                conf.search = [s.rstrip(".") for s in values]  # the last of the two wins, as in glibc
            elif key == "options":
                for option in values:
                    if option.startswith("ndots:"):
                        with contextlib.suppress(ValueError):
                            conf.ndots = max(0, min(15, int(option[6:])))
        # glibc: no nameserver line means the local one.
        conf.nameservers = conf.nameservers[:3] or ["127.0.0.1"]
        return conf

    def candidates(self, host: str) -> list[str]:
        """The names to ask for, in glibc's order."""
        if host.endswith("."):
            return [host]
        searched = [f"{host}.{domain}." for domain in self.search if domain]
        if host.count(".") >= self.ndots:
            return [host + ".", *searched]
        return [*searched, host + "."]


# -- sockets in another network namespace ------------------------------------------------------


class Stranded(OSError):
    """A worker thread could not return to its own network namespace."""


class NetnsSockets:
    """Makes sockets in other network namespaces on one dedicated thread.

    setns() moves only the calling thread, so that thread enters the namespace, makes the
    socket and returns home at once. A thread that cannot return is never used again: its
    executor is retired and a fresh one made, so no host thread stays in a pod's network.
    """

    def __init__(self) -> None:
        self._pool = self._new_pool()

    @staticmethod
    def _new_pool() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="podyard-netns")

    async def make(self, netns: str, family: int, kind: int) -> socket.socket:
        pool = self._pool
        job = pool.submit(_socket_in, netns, family, kind)
        try:
            return await asyncio.wrap_future(job)
        except Stranded:
            # Swapped here, on the loop's thread, so no submit ever meets a retired pool. Jobs
            # already queued there fail fast: a stranded thread refuses all work.
            if self._pool is pool:
                self._pool = self._new_pool()
                pool.shutdown(wait=False)
            raise
        except asyncio.CancelledError:
            # The thread finishes its work anyway: close what it makes.
            job.add_done_callback(_close_made)
            raise


def _close_made(job: Future[socket.socket]) -> None:
    if not job.cancelled() and job.exception() is None:
        job.result().close()


_thread = threading.local()


@functools.cache
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc().setns(fd, CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


def _socket_in(netns: str, family: int, kind: int) -> socket.socket:
    """On the worker thread: a socket made in the namespace at ``netns``."""
    if getattr(_thread, "stranded", False):
        raise Stranded("this thread is stranded in another network namespace")
    if not hasattr(_thread, "home"):
        _thread.home = os.open(_HOME_NS, os.O_RDONLY | os.O_CLOEXEC)
        _thread.home_id = _ns_id(os.fstat(_thread.home))
    target = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(target)  # failing, the thread has not moved
    finally:
        os.close(target)
    sock: socket.socket | None = None
    error: OSError | None = None
    try:
        sock = socket.socket(family, kind)
    except OSError as e:
        error = e
    try:
        _setns(_thread.home)
        if _ns_id(os.stat(_HOME_NS)) != _thread.home_id:
            raise OSError("back from setns(), the thread is still elsewhere")
    except OSError as e:
        _thread.stranded = True
        if sock is not None:
            sock.close()
        raise Stranded(f"could not return to the host's network namespace: {e}") from e
    if error is not None:
        raise error
    assert sock is not None
    return sock


def _ns_id(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino
