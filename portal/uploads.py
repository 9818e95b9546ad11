"""Receiving an upload within limits: size, time, one file of an accepted type.

The request body is read as it arrives and parsed as it streams (python-multipart's push
parser), so the file goes straight to its own folder and a body is refused as soon as it
passes the size limit, or stops arriving for too long. Starlette's own `request.form()` would
first spool the whole body to the system's temporary folder.

The name the browser gives the file is never a path here: the file is written as
`upload.<type>`, and the name is kept only for display (`display_name`).
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from schemas.personal_data import shown_file_name

ACCEPTED_TYPES = (".xlsx", ".zip", ".csv")
FIELD_BYTES = 4096  # a form field (the CSRF token, a choice): never more
MAX_FIELDS = 8
FORM_OVERHEAD = 64 * 1024  # the form's own bytes around the file (boundaries, headers, fields)


class UploadRefused(Exception):
    """Why an upload is refused: `reason` (a key of the portal's texts) and an HTTP status."""

    def __init__(self, reason: str, status: int, **values):
        super().__init__(reason)
        self.reason, self.status, self.values = reason, status, values


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the file as written
    display_name: str = ""  # the browser's name for it, safe to show
    file_format: str = ""  # xlsx, zip or csv
    size: int = 0


def display_name(name: str) -> str:
    """A browser's file name as the portal may show it: its last path part, no control or
    format characters, at most 120 characters, personal data withheld."""
    name = name.replace("\\", "/")
    name = PurePosixPath(name).name if name else ""
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    return shown_file_name(name.strip()[:120]) or "(unnamed)"


async def receive_upload(request, folder: Path, *, max_bytes: int, seconds: float,
                         idle_seconds: float) -> Upload:
    """The form of `request` with its one file written into `folder`; `UploadRefused` when the
    body is not such a form, is larger than `max_bytes`, takes over `seconds` in all or stalls
    for `idle_seconds`."""
    kind, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused("upload_not_a_form", 400)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise UploadRefused("upload_too_large", 413, allowed=max_bytes)  # before reading a byte

    upload = Upload()
    part: dict = {}
    handle = None

    def on_part_begin():
        part.clear()
        part.update(headers={}, name=None, data=bytearray(), file=False, header_field=b"", header_value=b"")

    def on_header_field(data, start, end):
        part["header_field"] += data[start:end]

    def on_header_value(data, start, end):
        part["header_value"] += data[start:end]

    def on_header_end():
        part["headers"][part["header_field"].lower()] = part["header_value"]
        part["header_field"], part["header_value"] = b"", b""

    def on_headers_finished():
        nonlocal handle
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        part["name"] = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in disposition:
            if len(upload.fields) >= MAX_FIELDS:
                raise UploadRefused("upload_not_a_form", 400)
            return
        if upload.path is not None or part["name"] != "file":
            raise UploadRefused("upload_one_file", 400)
        name = disposition[b"filename"].decode("utf-8", "replace")
        suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
        if suffix not in ACCEPTED_TYPES:
            raise UploadRefused("upload_type", 415, types=", ".join(ACCEPTED_TYPES))
        part["file"] = True
        upload.display_name = display_name(name)
        upload.file_format = suffix[1:]
        upload.path = folder / f"upload{suffix}"
        handle = upload.path.open("xb")

    def on_part_data(data, start, end):
        if part["file"]:
            upload.size += end - start
            if upload.size > max_bytes:
                raise UploadRefused("upload_too_large", 413, allowed=max_bytes)
            handle.write(data[start:end])
        else:
            part["data"] += data[start:end]
            if len(part["data"]) > FIELD_BYTES:
                raise UploadRefused("upload_not_a_form", 400)

    def on_part_end():
        if not part["file"] and part["name"]:
            upload.fields[part["name"]] = part["data"].decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end}, max_size=max_bytes + FORM_OVERHEAD)
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + seconds
    chunks = request.stream().__aiter__()
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UploadRefused("upload_too_slow", 408, seconds=round(seconds))
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), min(remaining, idle_seconds))
            except StopAsyncIteration:
                break
            except asyncio.TimeoutError:
                raise UploadRefused("upload_too_slow", 408, seconds=round(seconds)) from None
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise UploadRefused("upload_not_a_form", 400) from None
    except ValueError as problem:  # python-multipart: past max_size
        raise UploadRefused("upload_too_large", 413, allowed=max_bytes) from problem
    finally:
        if handle is not None:
            handle.close()
    if upload.path is None or upload.size == 0:
        raise UploadRefused("upload_no_file", 400)
    return upload
