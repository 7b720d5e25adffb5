//! `snap mcp`: snap's agent commands as MCP tools, served over stdio with the official
//! Rust SDK (rmcp). Both lifecycles are rmcp's: the `initialize` handshake (2025-11-25
//! and older), and the stateless 2026-07-28 one (`server/discover`, requests carrying
//! their protocol version in `_meta`, no handshake). Stdout carries protocol messages
//! only; a closed stdin ends the server with status 0.

mod args;
mod query;
mod tools;
mod transport;

use anyhow::{Context, Result};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, ToolAnnotations,
};
use rmcp::service::{RequestContext, ServerInitializeError};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use std::path::PathBuf;
use std::sync::Arc;

/// Serve the project of the current directory until stdin closes.
pub fn run() -> Result<()> {
    let start = std::env::current_dir().context("cannot read the current directory")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the MCP server's runtime")?;
    let served = rt.block_on(serve(Server::new(start)));
    // Nothing may wait on a stdin read still pending in the blocking pool.
    rt.shutdown_background();
    served
}

/// Run `server` over stdin and stdout.
async fn serve(server: Server) -> Result<()> {
    let (input, output) = protocol_stdio()?;
    let stdio = rmcp::transport::async_rw::AsyncRwTransport::new_server(input, output);
    match server.serve(transport::Lenient::new(stdio)).await {
        Ok(running) => {
            running.waiting().await.context("the MCP server stopped")?;
            Ok(())
        }
        // Stdin closed before a client said anything: nothing to serve.
        Err(ServerInitializeError::ConnectionClosed(_)) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("MCP: {e}")),
    }
}

/// The protocol's own copies of stdin and stdout (close-on-exec). Fds 0 and 1 then
/// point at /dev/null and stderr: neither a stray print nor a process a tool starts
/// (git, tmux) can write into the protocol stream or read the requests.
fn protocol_stdio() -> Result<(tokio::fs::File, tokio::fs::File)> {
    use std::os::fd::{AsFd, AsRawFd};
    let copy = |fd: std::os::fd::BorrowedFd<'_>| -> Result<std::fs::File> {
        Ok(fd
            .try_clone_to_owned()
            .context("cannot copy stdin or stdout")?
            .into())
    };
    let input = copy(std::io::stdin().as_fd())?;
    let output = copy(std::io::stdout().as_fd())?;
    let null = std::fs::File::open("/dev/null").context("cannot open /dev/null")?;
    for (from, to) in [(null.as_raw_fd(), 0), (2, 1)] {
        // SAFETY: dup2 on descriptors this process owns; no Rust object owns 0 or 1.
        if unsafe { libc::dup2(from, to) } < 0 {
            return Err(std::io::Error::last_os_error()).context("cannot redirect stdin or stdout");
        }
    }
    Ok((
        tokio::fs::File::from_std(input),
        tokio::fs::File::from_std(output),
    ))
}

/// The MCP server of one project directory.
#[derive(Debug, Clone)]
struct Server {
    /// Where `snap mcp` started: the project tools act on without `dir`.
    start: Arc<PathBuf>,
    /// One tool call at a time, in the order they came: a pipelined `task_next` then
    /// `brief` sees the step, and two edits of the state file never interleave.
    one_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

impl Server {
    fn new(start: PathBuf) -> Server {
        Server {
            start: Arc::new(start),
            one_at_a_time: Arc::default(),
        }
    }
}

/// How an agent should use the tools, sent with `initialize` and `server/discover`.
const INSTRUCTIONS: &str = "snap records this project's shells and keeps the coding \
agent's state in .agent-session.json. Call brief first to see where work left off; \
task_set, task_next and task_done keep the task current; call checkpoint with a message \
after each discrete step. Every tool takes an optional absolute dir to act on another \
project. Results are redacted.";

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("snap", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = args::Tool::ALL
            .into_iter()
            .map(|t| {
                let hints = ToolAnnotations::new()
                    .read_only(t.read_only())
                    .destructive(false)
                    .open_world(false);
                rmcp::model::Tool::new(t.name(), t.description(), t.input_schema()).annotate(hints)
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = args::Tool::named(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!(
                    "unknown tool {:?}: snap has {}",
                    crate::text::safe(&request.name),
                    args::Tool::ALL.map(|t| t.name()).join(", ")
                ),
                None,
            ));
        };
        let _turn = self.one_at_a_time.lock().await;
        let start = Arc::clone(&self.start);
        let reply =
            tokio::task::spawn_blocking(move || tools::call(&start, tool, request.arguments))
                .await
                .map_err(|e| {
                    ErrorData::internal_error(format!("the {} tool failed: {e}", tool.name()), None)
                })?;
        let content = vec![ContentBlock::text(reply.text)];
        Ok(if reply.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        }
        .into())
    }
}
