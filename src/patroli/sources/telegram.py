"""Telegram Desktop exports (``result.json``), streamed with ijson over the messages.

Layouts: a single chat ``{"name", "type", "id", "messages": [...]}`` and the whole-account
export ``{"chats": {"list": [chat, ...]}, "left_chats": {"list": [...]}}``. Invalid
``\\xHH`` escapes written by some Desktop versions are repaired in the byte stream.

Per message: service and unsupported messages and messages without text (media only) are
skipped silently; the text is the visible text of ``text_entities`` (else ``text``), with
each ``text_link``'s hidden URL appended as `` (href)`` so URL extraction sees it.
key ``"<chat id or name>:<message id>"``; ``posted_at`` from ``date_unixtime`` (else
``date``, local time in ``options.timezone``, default WIB); platform ``"telegram"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from patroli.sources._base import (
    ErrorHandler,
    KeyRegistry,
    RecordError,
    SourceError,
    SourceOptions,
    local_timezone,
)
from patroli.sources._fields import as_scalar, parse_datetime
from patroli.sources._jsonstream import EscapeRepairingReader, Event, build, events, skip
from patroli.types import Post

#: top-level keys of a whole-account export that hold ``{"list": [chat, ...]}``
CHAT_LISTS = ("chats", "left_chats")
CHAT_INFO_KEYS = ("name", "type", "id")


def message_text(value: Any) -> str:
    """Visible text of a Telegram ``text`` / ``text_entities`` value (str or list of str
    and ``{"type", "text", "href"?}`` objects); ``text_link`` hrefs are appended as
    `` (href)`` unless already visible."""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        return ""
    parts: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            text = part.get("text")
            text = text if isinstance(text, str) else ""
            parts.append(text)
            href = part.get("href")
            if part.get("type") == "text_link" and isinstance(href, str) and href \
                    and href not in text:
                parts.append(f" ({href})")
    return "".join(parts)


def _chat_ref(chat: dict[str, Any], path: Path) -> str:
    ref = as_scalar(chat.get("id")) or as_scalar(chat.get("name"))
    return ref or path.stem


def iter_messages(path: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    """(chat info, message) for every message of the export, in file order.

    chat info holds the ``name`` / ``type`` / ``id`` keys written before the messages.
    Raises ``SourceError`` for an unreadable file or broken JSON.
    """
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    with raw:
        stream = events(EscapeRepairingReader(raw), path)
        first = next(stream, None)
        if first is None:
            return
        if first[1] != "start_map":
            raise SourceError(path, "not a Telegram export (top level is not an object)")
        yield from _chat_map(stream, {}, path)


def _chat_map(stream: Iterator[Event], chat: dict[str, Any],
              path: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    """Walk one object: a chat (``messages``) or the account export (``chats``)."""
    for ev in stream:
        if ev[1] == "end_map":
            return
        key = ev[2]
        start = next(stream)
        if key == "messages" and start[1] == "start_array":
            for item in stream:
                if item[1] == "end_array" and item[0].endswith("messages"):
                    break
                yield chat, build(item, stream)
        elif key in CHAT_LISTS and start[1] == "start_map":
            yield from _chat_list_holder(stream, path)
        elif key in CHAT_INFO_KEYS:
            chat[key] = build(start, stream)
        else:
            skip(start, stream)


def _chat_list_holder(stream: Iterator[Event],
                      path: Path) -> Iterator[tuple[dict[str, Any], Any]]:
    for ev in stream:
        if ev[1] == "end_map":
            return
        start = next(stream)
        if ev[2] == "list" and start[1] == "start_array":
            for item in stream:
                if item[1] == "end_array":
                    break
                if item[1] == "start_map":
                    yield from _chat_map(stream, {}, path)
                else:
                    skip(item, stream)
        else:
            skip(start, stream)


def read(path: Path, options: SourceOptions, on_error: ErrorHandler) -> Iterator[Post]:
    """Posts of a Telegram Desktop export. Raises ``SourceError`` when unreadable/broken."""
    source = str(path)
    keys = KeyRegistry()
    tz = local_timezone(options)
    index = 0
    for chat, msg in iter_messages(path):
        index += 1
        if not isinstance(msg, dict):
            on_error(RecordError(f"{source}:message #{index}",
                                 f"not a message object but {type(msg).__name__}"))
            continue
        if msg.get("type", "message") != "message":
            continue  # service / unsupported
        entities = msg.get("text_entities")
        text = message_text(entities) if isinstance(entities, list) and entities else ""
        if not text.strip():
            text = message_text(msg.get("text"))
        if not text.strip():
            continue  # media only
        msg_id = as_scalar(msg.get("id"))
        chat_ref = _chat_ref(chat, path)
        posted_at = parse_datetime(msg.get("date_unixtime")) or parse_datetime(
            msg.get("date"), naive_tz=tz)
        if msg_id:
            key = keys.unique(f"{chat_ref}:{msg_id}")
            location = f"{source}:message {msg_id}"
        else:
            stamp = posted_at.isoformat() if posted_at else ""
            key = keys.content(f"{stamp}\x00{msg.get('from') or ''}\x00{text}",
                               f"{source}:{chat_ref}")
            location = f"{source}:message #{index}"
        yield Post(
            key=key,
            text=text,
            source=source,
            platform="telegram",
            url=None,
            author=as_scalar(msg.get("from")) or as_scalar(msg.get("author")),
            posted_at=posted_at,
            language=None,
            raw=msg,
            location=location,
            record_id=msg_id,
        )
