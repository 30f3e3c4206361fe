"""Logs, exec, attach and TTY resize: use cases that reach a running container.

These functions are async: they wait on the runtime, and on the store through a thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from podyard.domain.errors import FailedPrecondition, NotFound, Unavailable
from podyard.domain.phases import Phase
from podyard.domain.records import AccountRecord, ContainerRecord, PodRecord
from podyard.domain.streams import LogQuery, Stream
from podyard.runtime.protocol import Runtime, RuntimeFailure, RuntimeUnavailable
from podyard.services import pods
from podyard.services.context import ServiceContext
from podyard.services.sessions import Session


def _runtime(ctx: ServiceContext) -> Runtime:
    if ctx.runtime is None:
        raise Unavailable("the runtime is not ready yet; retry")
    return ctx.runtime


@contextmanager
def _refused(what: str, ctx: ServiceContext, session: Session | None = None) -> Iterator[None]:
    """A runtime failure becomes a refusal that says what could not be done; the
    session it was for, if any, ends."""
    try:
        yield
    except RuntimeFailure as e:
        if session is not None:
            ctx.sessions.end(session)
        if isinstance(e, RuntimeUnavailable):  # podyard restarts its Podman: worth a retry
            raise Unavailable(f"{what}: the container runtime is restarting; retry in a few seconds") from None
        raise FailedPrecondition(f"{what}: {e.message}") from None


async def _container(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str
) -> tuple[PodRecord, ContainerRecord]:
    return await ctx.db.run(pods.describe_container, ctx, account, region, pod_id, name)


async def _running(ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str) -> ContainerRecord:
    pod, container = await _container(ctx, account, region, pod_id, name)
    if pod.phase != Phase.RUNNING or container.status.state.kind != "running":
        state = container.status.state.reason or container.status.state.kind
        raise FailedPrecondition(
            f"container {name} of pod {pod_id} is not running (pod {pod.phase}, container {state})"
        )
    return container


async def get_container_logs(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str, query: LogQuery
) -> str:
    await _container(ctx, account, region, pod_id, name)
    data = await _runtime(ctx).read_logs(pod_id, name, query)
    return data.decode("utf-8", errors="replace")


async def exec_create(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str, command: list[str], tty: bool
) -> str:
    await _running(ctx, account, region, pod_id, name)
    session = ctx.sessions.open("exec", account.account_id, pod_id, name, tty)
    with _refused("the exec could not be created", ctx, session):
        session.runtime_id = await _runtime(ctx).exec_create(pod_id, name, command, tty)
    return session.session_id


async def exec_start(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str, exec_id: str
) -> tuple[Session, Stream]:
    """The exec's session and its stream, once the runtime's side is established."""
    session = ctx.sessions.find(exec_id, account.account_id, pod_id, name)
    if session.started:
        raise FailedPrecondition(f"exec {exec_id} was started already; create another")
    await _running(ctx, account, region, pod_id, name)
    ctx.sessions.start(session)
    with _refused("the exec could not be started", ctx, session):
        stream = await _runtime(ctx).exec_start(session.runtime_id, session.tty)
    return session, stream


async def attach(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str
) -> tuple[Session, Stream]:
    container = await _running(ctx, account, region, pod_id, name)
    tty = bool(container.spec.get("tty"))
    session = ctx.sessions.open("attach", account.account_id, pod_id, name, tty)
    ctx.sessions.start(session)
    with _refused("could not attach", ctx, session):
        stream = await _runtime(ctx).attach(pod_id, name, stdin=tty)
    return session, stream


async def session_ended(ctx: ServiceContext, session: Session, *, abandoned: bool) -> None:
    """The client is gone or the stream is over; an abandoned exec's process is ended.
    An exec's exit code is kept with its session: the runtime forgets ended execs soon."""
    try:
        if session.kind == "exec":
            if abandoned:
                await _runtime(ctx).exec_kill(session.runtime_id)
            state = await _runtime(ctx).exec_state(session.runtime_id)
            if state is not None and not state.running:
                session.exit_code = state.exit_code
    finally:
        ctx.sessions.end(session)


async def exec_exit_code(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str, exec_id: str
) -> int:
    await _container(ctx, account, region, pod_id, name)
    session = ctx.sessions.find(exec_id, account.account_id, pod_id, name)
    if not session.started:
        raise FailedPrecondition(f"exec {exec_id} has not been started; execStart runs it")
    if session.exit_code is not None:
        return session.exit_code
    with _refused("the exec's exit code could not be read", ctx):
        state = await _runtime(ctx).exec_state(session.runtime_id)
    if state is None:
        raise NotFound(f"execId: exec {exec_id} is no longer known to the runtime")
    if state.running or state.exit_code is None:
        raise FailedPrecondition(f"exec {exec_id} is still running; its exit code is not known yet")
    return state.exit_code


async def resize_tty(
    ctx: ServiceContext,
    account: AccountRecord,
    region: str,
    pod_id: str,
    name: str,
    height: int,
    width: int,
    exec_id: str | None,
) -> None:
    if exec_id:
        await _container(ctx, account, region, pod_id, name)
        session = ctx.sessions.find(exec_id, account.account_id, pod_id, name)
        if not session.tty:
            return  # no terminal to size: a no-op, as Kubernetes ignores it (jdc resizes every exec at exit)
        if not session.started:
            raise FailedPrecondition(f"exec {exec_id} has not been started; resize it once it runs")
        with _refused("the TTY could not be resized", ctx):
            state = await _runtime(ctx).exec_state(session.runtime_id)
        if state is None or not state.running:
            return  # the process is over: there is no terminal left to size (jdc resizes at exit)
        with _refused("the TTY could not be resized", ctx):
            await _runtime(ctx).exec_resize(session.runtime_id, height, width)
        return
    container = await _running(ctx, account, region, pod_id, name)
    if not container.spec.get("tty"):
        raise FailedPrecondition(f"container {name} has no TTY (create it with tty); give an execId to size an exec")
    with _refused("the TTY could not be resized", ctx):
        await _runtime(ctx).resize(pod_id, name, height, width)
