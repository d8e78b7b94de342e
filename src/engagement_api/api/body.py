"""Reading request bodies with a size limit (413 is decided after authentication)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from engagement_api.contract.errors import PayloadTooLarge


@dataclass(frozen=True, slots=True)
class Body:
    data: bytes
    too_large: bool
    limit: int

    def check(self) -> bytes:
        """The body, or 413 when it was over the limit."""
        if self.too_large:
            raise PayloadTooLarge(f"Request body is larger than the limit of {self.limit} bytes")
        return self.data


async def read_body(request: Request, limit: int) -> Body:
    """Read at most ``limit`` bytes; the rest of an oversized body is drained, not kept."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return Body(b"", True, limit)
    chunks: list[bytes] = []
    size = 0
    too_large = False
    async for chunk in request.stream():
        if too_large:
            continue
        size += len(chunk)
        if size > limit:
            too_large = True
            chunks.clear()
            continue
        chunks.append(chunk)
    return Body(b"".join(chunks), too_large, limit)
