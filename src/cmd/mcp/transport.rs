//! The stdio transport, lenient where rmcp is strict before a session starts: a
//! notification (or a stray response) that comes before the first request is dropped,
//! where rmcp would end the server on it. Nothing else is changed.

use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::RoleServer;
use std::future::Future;

/// A transport that drops what a client sends before its first request.
pub struct Lenient<T> {
    inner: T,
    /// A request that opens a session (not a ping or a discovery) has come.
    started: bool,
}

impl<T> Lenient<T> {
    pub fn new(inner: T) -> Lenient<T> {
        Lenient {
            inner,
            started: false,
        }
    }
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for Lenient<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            let msg = self.inner.receive().await?;
            if self.started {
                return Some(msg);
            }
            if let ClientJsonRpcMessage::Request(req) = &msg {
                self.started = !matches!(
                    req.request,
                    ClientRequest::PingRequest(_) | ClientRequest::DiscoverRequest(_)
                );
                return Some(msg);
            }
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
