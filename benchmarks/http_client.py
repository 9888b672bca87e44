"""A minimal HTTP/1.1 keep-alive client for load tests (benchmarks/load_api.py, benchmarks/noisy_neighbour.py)."""

from __future__ import annotations

import asyncio
import urllib.parse


class Connection:
    """A minimal HTTP/1.1 keep-alive client for the timed loops: on a 2-CPU machine httpx's own CPU per
    request (and gunzipping every answer) would be measured as server latency. The body is read, not
    decompressed or parsed."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        split = urllib.parse.urlsplit(base)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Accept-Encoding": "gzip"}.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, target: str) -> tuple[int, dict[str, str], bytes]:
        return await self.send("GET", target)

    async def send(self, method: str, target: str, json_body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        body_head = f"Content-Type: application/json\r\nContent-Length: {len(json_body)}\r\n" if json_body else ""
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}{body_head}\r\n"
        writer.write(head.encode("latin-1") + json_body)
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            body = b"".join(parts)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split()[1]), headers, body

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None
