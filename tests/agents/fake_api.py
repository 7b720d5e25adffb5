#!/usr/bin/env python3
"""A loopback fake of the Anthropic Messages API and the OpenAI Responses API, for
driving the real Claude Code and Codex CLIs offline in snap's tests.

Usage: fake_api.py SCRIPT.json LOG.jsonl PORTFILE

SCRIPT.json: {"commands": ["cmd", ...], "final": "text"}. A request whose conversation
holds N tool results (N < len(commands)) is answered with a shell tool call running
commands[N]; otherwise with the final text. Every request is appended to LOG.jsonl
(method, path, headers, body) so tests can check what the CLIs sent. The chosen port is
written to PORTFILE once the server listens on 127.0.0.1.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCRIPT = json.load(open(sys.argv[1]))
LOG = sys.argv[2]
LOCK = threading.Lock()


def sse(events):
    """Server-sent events from (name, data) pairs."""
    return "".join(
        f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events
    ).encode()


def claude_results(body):
    n = 0
    for m in body.get("messages", []):
        content = m.get("content")
        if isinstance(content, list):
            n += sum(1 for c in content if c.get("type") == "tool_result")
    return n


def claude_answer(body):
    """The Messages API answer: a Bash tool call or the final text."""
    tools = [t.get("name") for t in body.get("tools", []) if isinstance(t, dict)]
    n = claude_results(body)
    commands = SCRIPT["commands"]
    model = body.get("model", "claude-fake")
    start = {
        "type": "message_start",
        "message": {
            "id": f"msg_{n}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    if "Bash" in tools and n < len(commands):
        block = {"type": "tool_use", "id": f"toolu_{n}", "name": "Bash", "input": {}}
        delta = {
            "type": "input_json_delta",
            "partial_json": json.dumps({"command": commands[n], "description": "run it"}),
        }
        stop = "tool_use"
    else:
        block = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": SCRIPT["final"] if "Bash" in tools else "ok"}
        stop = "end_turn"
    return sse(
        [
            ("message_start", start),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 1},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )


def codex_answer(body):
    """The Responses API answer: an `exec_command` call or the final text."""
    items = body.get("input", [])
    n = sum(1 for i in items if isinstance(i, dict) and i.get("type") == "function_call_output")
    commands = SCRIPT["commands"]
    rid = f"resp_{n}"
    if n < len(commands):
        item = {
            "type": "function_call",
            "id": f"fc_{n}",
            "call_id": f"call_{n}",
            "name": "exec_command",
            "arguments": json.dumps({"cmd": commands[n]}),
            "status": "completed",
        }
        events = [("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item})]
    else:
        text = SCRIPT["final"]
        item = {
            "type": "message",
            "id": f"m_{n}",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        added = dict(item, content=[], status="in_progress")
        events = [
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": added}),
            (
                "response.output_text.delta",
                {"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0, "content_index": 0, "delta": text},
            ),
        ]
    events.insert(0, ("response.created", {"type": "response.created", "response": {"id": rid, "status": "in_progress"}}))
    events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}))
    events.append(
        (
            "response.completed",
            {
                "type": "response.completed",
                "response": {
                    "id": rid,
                    "status": "completed",
                    "usage": {"input_tokens": 1, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 1, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 2},
                },
            },
        )
    )
    return sse(events)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": dict(self.headers.items()),
            "body": body,
        }
        with LOCK, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def reply(self, status, data, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self):
        self.record(None)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.record(None)
        if "/models" in self.path:
            self.reply(200, json.dumps({"data": [], "models": []}).encode(), "application/json")
        else:
            self.reply(404, b"{}", "application/json")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        self.record(body)
        if not isinstance(body, dict):
            self.reply(400, b"{}", "application/json")
        elif self.path.startswith("/v1/messages/count_tokens"):
            self.reply(200, b'{"input_tokens": 1}', "application/json")
        elif self.path.startswith("/v1/messages") and not body.get("stream"):
            message = {
                "id": "msg_plain",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "claude-fake"),
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
            self.reply(200, json.dumps(message).encode(), "application/json")
        elif self.path.startswith("/v1/messages"):
            self.reply(200, claude_answer(body), "text/event-stream")
        elif self.path.startswith("/v1/responses"):
            self.reply(200, codex_answer(body), "text/event-stream")
        else:
            self.reply(404, b"{}", "application/json")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[3] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os

    os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    server.serve_forever()


if __name__ == "__main__":
    main()
