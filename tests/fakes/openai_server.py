"""A fake OpenAI-compatible chat completions server on 127.0.0.1, for the real `openai` client.

Tests set `behaviour` ("answer", "no_answer", "error", "slow") and `reply`, then read `requests`.
"""

from __future__ import annotations

import json
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
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
                if self.path.endswith("/embeddings"):
                    texts = fake.requests[-1]["json"]["input"]
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
                if fake.behaviour == "error":
                    self._send(fake.status, {"error": {"message": "boom", "type": "server_error"}})
                    return
                content = "NOT_IN_SOURCES" if fake.behaviour == "no_answer" else fake.reply
                if fake.requests[-1]["json"].get("stream"):
                    self._stream(content)
                    return
                self._send(
                    200,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": fake.requests[-1]["json"].get("model", "test"),
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    },
                )

            def _stream(self, content: str) -> None:
                """Server-sent events, a few characters per chunk, as OpenAI streams with stream=true."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
                for n, piece in enumerate(pieces):
                    delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
                    choice = {"index": 0, "delta": delta, "finish_reason": None}
                    chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": "test", "choices": [choice]}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(fake.stream_delay)
                done = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                        "model": "test", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
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
