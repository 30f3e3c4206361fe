"""The baseline: the same server stack (uvicorn, httptools, uvloop, a Starlette response)
answering every request with a fixed JSON body of a given size.

    python -m bench.minimal_server --port P --size N
"""

from __future__ import annotations

import json

import click
import uvicorn
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


@click.command()
@click.option("--port", type=int, required=True)
@click.option("--size", type=int, required=True)
def main(port: int, size: int) -> None:
    filler = "x" * max(0, size - 60)
    body = json.dumps({"requestId": "0" * 32, "result": {"filler": filler}}, separators=(",", ":")).encode()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await Response(body, media_type="application/json")(scope, receive, send)

    print(len(body), flush=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


if __name__ == "__main__":
    main()
