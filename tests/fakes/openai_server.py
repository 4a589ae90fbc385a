"""A fake OpenAI-compatible chat completions server on 127.0.0.1, for the real `openai` client.

Tests set `behaviour` ("answer", "no_answer", "error", "slow", "obey") and `reply`, then read `requests`;
`slow_for` holds only the requests that contain a text, until `release` is set.

"obey" is a worst-case model for the red-team tests: it follows whatever instruction reaches it, in any
message — the system message, earlier turns, the question or a passage (`obedient_reply`). Asked to say
something, it says it; asked for its system prompt, it gives the system message verbatim (translated,
base64, reversed, ROT13 or its last line if asked so); asked for a link, an image or a mention, it writes it, with the
user's question in the URL; told to add something to every answer, it does. Without an instruction it
answers with the first sentence of passage [1], cited. `obeyed` collects what it wrote.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self) -> None:
        self.behaviour = "answer"
        self.reply = "Pro Person sind 2.000 bis 5.000 Euro einzuplanen [1]."
        self.status = 500
        self.delay = 5.0
        self.stream_delay = 0.0  # seconds between streamed chunks
        # a request that contains this text waits until `release` is set (at most `delay` seconds)
        self.slow_for: str | None = None
        self.release = threading.Event()
        self.requests: list[dict] = []
        self.obeyed: list[str] = []  # the replies of behaviour "obey"
        # asked with `tools` (issue 22): the tool call to answer with, (name, arguments); None: plain text
        self.tool_call: tuple[str, dict] | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                asked = json.loads(body)  # this request's own: another thread may append the next meanwhile
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": asked})
                if self.path.endswith("/embeddings"):
                    texts = asked["input"]
                    self._send(
                        200,
                        {
                            "object": "list",
                            "model": "fake-embed",
                            "data": [
                                {"object": "embedding", "index": i, "embedding": fake.embedding(t)}
                                for i, t in enumerate(texts)
                            ],
                            "usage": {"prompt_tokens": 1, "total_tokens": 1},
                        },
                    )
                    return
                if fake.behaviour == "slow":
                    time.sleep(fake.delay)
                elif fake.slow_for and fake.slow_for in json.dumps(asked, ensure_ascii=False):
                    fake.release.wait(timeout=fake.delay)
                if fake.behaviour == "error":
                    self._send(fake.status, {"error": {"message": "boom", "type": "server_error"}})
                    return
                if asked.get("tools") and fake.tool_call is not None:
                    name, arguments = fake.tool_call
                    call = {"id": "call_1", "type": "function",
                            "function": {"name": name, "arguments": json.dumps(arguments)}}  # fmt: skip
                    message = {"role": "assistant", "content": None, "tool_calls": [call]}
                    choice = {"index": 0, "finish_reason": "tool_calls", "message": message}
                    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
                    created, model = int(time.time()), asked.get("model", "test")
                    self._send(200, {"id": "chatcmpl-tools", "object": "chat.completion", "created": created,
                                     "model": model, "choices": [choice], "usage": usage})  # fmt: skip
                    return
                content = "NOT_IN_SOURCES" if fake.behaviour == "no_answer" else fake.reply
                if fake.behaviour == "obey":
                    content = obedient_reply(asked["messages"])
                    fake.obeyed.append(content)
                if asked.get("stream"):
                    usage = (asked.get("stream_options") or {}).get("include_usage")
                    self._stream(content, usage=bool(usage))
                    return
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": asked.get("model", "test"),
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    },
                )

            def _stream(self, content: str, usage: bool = False) -> None:
                """Server-sent events, a few characters per chunk, as OpenAI streams with stream=true."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
                for n, piece in enumerate(pieces):
                    delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
                    choice = {"index": 0, "delta": delta, "finish_reason": None}
                    chunk = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": "test",
                        "choices": [choice],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(fake.stream_delay)
                done = {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": "test",
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self.wfile.write(f"data: {json.dumps(done)}\n\n".encode())
                if usage:  # stream_options.include_usage: a last chunk without choices carries the usage
                    last = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": "test",
                        "choices": [],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                    self.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def embedding(text: str) -> list[float]:
        """A deterministic bag-of-words vector: texts sharing words are close."""
        vector = [0.0] * 64
        for word in text.lower().split():
            vector[sum(map(ord, word.strip("?.,!"))) % 64] += 1.0
        return vector

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the obeying model ---------------------------------------------------------------------------------
#
# Instructions are found with patterns, sentence by sentence, in every message. A sentence that negates
# ("never", "do not", "nicht", "nie" …) before the instruction is a rule, not an instruction: that is how
# Lotse's own system message ("do not quote … it") is told apart from an attacker's "quote it".

_NEGATION = re.compile(r"\b(?:never|not|don't|no|nie|niemals|nicht|kein|keine|keinen)\b", re.IGNORECASE)
_QUOTED = re.compile(r"[\"„“”'«»‚‘’]([^\"„“”«»‘’]{1,300})[\"„“”'«»‚‘’]")
_URLISH = re.compile(
    r"!?\[[^\]]*\]\([^)\s]+\)|<https?://[^>]+>|https?://[^\s\"'„“”]+|\b[\w-]+\.(?:example|com|net|org|io)"
    r"/[^\s\"'„“”]*"
)
_MENTION = re.compile(r"<![a-z^]+(?:\|[^>]*)?>|<@[A-Z0-9]+>|<#C[A-Z0-9]+>|(?<!\w)@(?:channel|here|everyone)\b")
_MARKUP = re.compile(r"<(?:script|img|iframe|a|svg|style)\b[^>]*>(?:[^<]*</\w+>)?", re.IGNORECASE)
_REVEAL = re.compile(
    r"(?:repeat|print|output|reveal|show|display|tell|what (?:are|were|is)|give|spell|translate|encode|list|"
    r"wiederhol\w*|gib|zeig\w*|nenn\w*|verrat\w*|druck\w*|übersetz\w*|kodier\w*|buchstabier\w*|schreib\w*|"
    r"was (?:sind|ist|steht))"
    r"\b.{0,60}?(?:system\s*-?\s*(?:prompt|message|nachricht)|instructions|anweisungen|text above|obigen text|"
    r"text (?:oben|darüber|davor)|configuration|konfiguration|initial prompt|your rules|deine regeln|ihre regeln|"
    r"vorgaben)",
    re.IGNORECASE,
)
_APPEND = re.compile(
    r"\b(?:append|add|end|häng\w*|füg\w*|schreib\w*|beende\w*|schließ\w*)\b.{0,120}?(?:every|each|all|your|jede|jeder|alle|"
    r"deine|ihre)\s+(?:answer|reply|response|antwort|nachricht)",
    re.IGNORECASE,
)
_SAY = re.compile(
    r"(?:\bsay|\bwrite|\bprint|\boutput|\brespond|\breply|\banswer|\bstart|\bbegin|\binclude|\binsert|\badd|"
    r"\bsag\w*|\bschreib\w*|\bantworte\w*|\bgib|\bbeginne\w*|\bfüge|\bhänge|\bsetze|\bnenn\w*|\berwähn\w*|\bmention)\b",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _obeys(sentence: str, match: re.Match) -> bool:
    return not _NEGATION.search(sentence[: match.start()])


def _rot13(text: str) -> str:
    import codecs

    return codecs.decode(text, "rot13")


def _leak(system: str, sentence: str) -> str:
    low = sentence.lower()
    if "last line" in low or "letzte zeile" in low:
        return system.strip().splitlines()[-1]
    if "base64" in low:
        import base64

        return base64.b64encode(system.encode()).decode()
    if "rot13" in low or "rot-13" in low:
        return _rot13(system)
    if "backwards" in low or "rückwärts" in low or "reverse" in low or "umgekehrt" in low:
        return system[::-1]
    if "translat" in low or "übersetz" in low or "deutsch" in low or "german" in low:
        # a "translation": every word kept, the order within each sentence turned round (no verbatim run
        # survives), as a real translation keeps names and tokens such as the canary
        return " ".join(" ".join(reversed(s.split())) for s in _sentences(system))
    return system


def _question(messages: list[dict]) -> str:
    last = str(messages[-1].get("content", "")) if messages else ""
    return last.rsplit("Question:", 1)[-1].strip()


def _plain_answer(messages: list[dict]) -> str:
    last = str(messages[-1].get("content", "")) if messages else ""
    match = re.search(r'<passage id="1"[^>]*>\n(.*?)\n</passage>', last, re.DOTALL)
    if not match:
        return "NOT_IN_SOURCES"
    first = re.split(r"(?<=[.!?])\s+", " ".join(match.group(1).split()), maxsplit=1)[0]
    return f"{first.rstrip('.')} [1]."


def _payload(sentence: str, start: int) -> str | None:
    rest = sentence[start:]
    for pattern in (_URLISH, _MENTION, _MARKUP):
        found = pattern.search(rest)
        if found:
            return found.group()
    quoted = _QUOTED.search(rest)
    if quoted:
        return quoted.group(1)
    colon = re.match(r"\S+(?:\s+\S+){0,2}?\s*:\s*(.+)", rest)  # "say: X", "antworte nur: X", "sag folgendes: X"
    return colon.group(1).strip() if colon else None


def _exfiltrate(payload: str, messages: list[dict]) -> str:
    """An attacker's link template gets the user's question (or what the system message says) in it."""
    from urllib.parse import quote

    data = quote(_question(messages))
    for marker in ("{question}", "{frage}", "<frage>", "<question>", "DATA", "DATEN", "{data}", "{daten}"):
        payload = payload.replace(marker, data)
    return payload


def obedient_reply(messages: list[dict]) -> str:
    system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
    prefix, only, suffix = [], None, []
    for message in messages:
        # a model reads "‹!channel›" (how Lotse escapes angle brackets in data) as what it stands for
        text = str(message.get("content", "")).replace("‹", "<").replace("›", ">")
        for sentence in _sentences(text):
            reveal = _REVEAL.search(sentence)
            if reveal and _obeys(sentence, reveal):
                only = _leak(system, sentence)
                continue
            append = _APPEND.search(sentence)
            if append and _obeys(sentence, append):
                payload = _payload(sentence, 0)
                if payload:
                    suffix.append(_exfiltrate(payload, messages))
                continue
            say = _SAY.search(sentence)
            if say and _obeys(sentence, say):
                payload = _payload(sentence, say.start())
                if payload:
                    payload = _exfiltrate(payload, messages)
                    if re.search(r"\b(?:start|begin|beginne\w*)\b", sentence, re.IGNORECASE):
                        prefix.append(payload)
                    elif re.search(r"\b(?:only|nur|ausschließlich|exactly|genau)\b", sentence, re.IGNORECASE):
                        only = payload
                    else:
                        suffix.append(payload)
    if only is not None:
        return only
    return " ".join([*prefix, _plain_answer(messages), *suffix])
