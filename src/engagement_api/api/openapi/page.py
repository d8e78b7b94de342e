"""``GET /docs``: the document rendered as one self-contained HTML page (no scripts, nothing
fetched from elsewhere)."""

from __future__ import annotations

import html
from typing import Any, Final

import orjson

from engagement_api.api.openapi.responses import RESPONSES
from engagement_api.api.openapi.schemas import SCHEMAS, Json

_STYLE: Final = """
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
line-height:1.45;color:#1b1b1b}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4rem;font-weight:bold;text-transform:uppercase}
.post{color:#2a7a2a}.get{color:#1f5fa8}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;
vertical-align:top;text-align:left}
"""

_e = html.escape


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_INDENT_2)
    if isinstance(text, bytes):
        text = text.decode()
    return f"<pre>{_e(text)}</pre>"


def _linked(value: Any) -> str:
    """A schema as JSON with each ``$ref`` turned into a link to its section."""
    text = _e(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())
    for name in value_refs(value):
        quoted = _e(f'"{SCHEMAS}{name}"')
        text = text.replace(quoted, f'"<a href="#schema-{name}">{SCHEMAS}{name}</a>"')
    return f"<pre>{text}</pre>"


def value_refs(value: Any) -> set[str]:
    """The names of the schemas that ``value`` refers to (``$ref``), at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(SCHEMAS):
                found.add(item[len(SCHEMAS) :])
            else:
                found |= value_refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= value_refs(item)
    return found


def _resolve(doc: Json, value: Json) -> Json:
    target = value.get("$ref")
    if isinstance(target, str) and target.startswith(RESPONSES):
        resolved: Json = doc["components"]["responses"][target[len(RESPONSES) :]]
        return {**resolved, **{k: v for k, v in value.items() if k != "$ref"}}
    return value


def _operation(doc: Json, path: str, method: str, op: Json) -> list[str]:
    parts = [
        f'<div class=op id="op-{_e(op["operationId"])}">',
        f'<h3><span class="m {_e(method)}">{_e(method)}</span> <code>{_e(path)}</code> &mdash; '
        f"{_e(op['summary'])}</h3>",
    ]
    if op.get("description"):
        parts.append(f"<p>{_e(op['description'])}</p>")
    security = [name for option in op.get("security", []) for name in option]
    parts.append(
        "<p><b>Authentication:</b> "
        + (", ".join(f"<code>{_e(s)}</code>" for s in security) or "none")
        + "</p>"
    )
    for parameter in op.get("parameters", []):
        parts.append(
            f"<p><b>{_e(parameter['in'])} parameter</b> <code>{_e(parameter['name'])}</code>"
            f"{' (required)' if parameter.get('required') else ''}: "
            f"{_e(parameter.get('description', ''))}</p>"
        )
    body = op.get("requestBody")
    if body:
        for media, spec in body["content"].items():
            parts.append(f"<p><b>Request body</b> <code>{_e(media)}</code></p>")
            parts.append(_linked(spec["schema"]))
            if "example" in spec:
                parts.append("<p>Example:</p>" + _pre(spec["example"]))
    parts.append("<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>")
    for status, response in op["responses"].items():
        parts.append(_response_row(status, _resolve(doc, response)))
    parts.append("</table></div>")
    return parts


def _response_row(status: str, response: Json) -> str:
    cells = []
    for media, spec in response.get("content", {}).items():
        cells.append(f"<code>{_e(media)}</code>" + _linked(spec.get("schema", {})))
        if "example" in spec:
            cells.append(_pre(spec["example"]))
        for example in spec.get("examples", {}).values():
            cells.append(_pre(example["value"]))
    headers = ", ".join(f"<code>{_e(h)}</code>" for h in response.get("headers", {}))
    return (
        f"<tr><td>{_e(status)}</td><td>{_e(response.get('description', ''))}"
        + (f"<br>Headers: {headers}" if headers else "")
        + f"</td><td>{''.join(cells)}</td></tr>"
    )


def render(doc: Json) -> str:
    """The document as one HTML page."""
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{_e(doc['info']['title'])} {_e(doc['info']['version'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(doc['info']['title'])} <small>{_e(doc['info']['version'])}</small></h1>",
        '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI '
        f"{_e(doc['openapi'])}).</p>",
        _pre(doc["info"]["description"]),
    ]
    for tag in doc["tags"]:
        parts.append(f'<h2 id="tag-{_e(tag["name"])}">{_e(tag["name"])}</h2>')
        parts.append(f"<p>{_e(tag['description'])}</p>")
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if tag["name"] in op.get("tags", []):
                    parts.extend(_operation(doc, path, method, op))
    parts.append("<h2 id=schemas>Schemas</h2>")
    for name, schema in doc["components"]["schemas"].items():
        parts.append(f'<h3 id="schema-{_e(name)}">{_e(name)}</h3>{_linked(schema)}')
    parts.append("<h2 id=security>Authentication schemes</h2>")
    for name, scheme in doc["components"]["securitySchemes"].items():
        parts.append(f"<h3>{_e(name)}</h3><p>{_e(scheme.get('description', ''))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
