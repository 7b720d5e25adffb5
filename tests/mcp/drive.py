"""Drive `snap mcp` with the official MCP Python SDK, as an agent's client would.

Usage: drive.py SNAP_BINARY PROJECT_DIR MODE < PLAN
  MODE: "initialize" (the 2025-11-25 handshake) or "discover" (2026-07-28, stateless)
  PLAN: a JSON list of calls, each {"tool": NAME, "args": {...}}

Prints one JSON object: the negotiated protocol version, the server's name, the
tools listed, and for each call its text, whether it is an error, and the project's
.agent-session.json as it stands right after the call (null when there is none).
The server inherits this process's environment and starts in PROJECT_DIR.
"""

import json
import os
import sys

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


def state_file(project):
    try:
        with open(os.path.join(project, ".agent-session.json"), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


async def drive(snap, project, mode, plan):
    params = StdioServerParameters(
        command=snap, args=["mcp"], env=dict(os.environ), cwd=project
    )
    out = {"mode": mode, "calls": []}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            if mode == "initialize":
                init = await session.initialize()
                out["protocol_version"] = init.protocol_version
                out["server_name"] = init.server_info.name
            else:
                await session.discover()
                out["protocol_version"] = session.protocol_version
                info = session.server_info
                out["server_name"] = info.name if info else None
            tools = await session.list_tools()
            out["tools"] = [
                {"name": t.name, "input_schema": t.input_schema} for t in tools.tools
            ]
            for call in plan:
                result = await session.call_tool(call["tool"], call.get("args") or {})
                texts = [c.text for c in result.content if c.type == "text"]
                out["calls"].append(
                    {
                        "tool": call["tool"],
                        "args": call.get("args") or {},
                        "content_items": len(result.content),
                        "text": texts[0] if texts else None,
                        "is_error": bool(result.is_error),
                        "state": state_file(project),
                    }
                )
    print(json.dumps(out))


def main():
    snap, project, mode = sys.argv[1:4]
    plan = json.load(sys.stdin)
    anyio.run(drive, snap, project, mode, plan)


if __name__ == "__main__":
    main()
