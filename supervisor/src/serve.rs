//! The control socket, served off the event loop. A thread accepts connections and gives each
//! a thread of its own, which checks that the peer is this user, reads one request of at most
//! [`MAX_REQUEST`] bytes within [`DEADLINE`], and hands it to the event loop; the loop answers
//! at its next turn (it is woken through a socket pair it polls). A slow, stuck or hostile
//! client costs one short-lived thread, never the loop's time: reaping, restarts and SIGTERM go
//! on while it dawdles.

use crate::control::{Reply, Request};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest request accepted.
pub const MAX_REQUEST: usize = 64 * 1024;
/// How long a client has to send its whole request, and to take its reply.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// Connections served at once; more are closed unanswered.
pub const MAX_CLIENTS: usize = 16;

/// A request waiting for the event loop's answer.
pub struct Pending {
    /// What the client asked.
    pub request: Request,
    reply: SyncSender<Reply>,
}

impl Pending {
    /// Sends the answer to the client's thread.
    pub fn answer(self, reply: Reply) {
        let _ = self.reply.send(reply);
    }
}

/// The event loop's end: requests to answer and the socket to poll for them.
pub struct Server {
    requests: Receiver<Pending>,
    wake: UnixStream,
}

impl Server {
    /// Serves `listener` from threads of its own.
    pub fn start(listener: UnixListener) -> std::io::Result<Server> {
        listener.set_nonblocking(false)?;
        let (wake, waker) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        waker.set_nonblocking(true)?;
        let (sender, requests) = mpsc::channel();
        let clients = Arc::new(AtomicUsize::new(0));
        let uid = nix::unistd::getuid().as_raw();
        std::thread::Builder::new()
            .name("ctl-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else {
                        // Out of descriptors, say: do not spin on it.
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    if clients.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
                        clients.fetch_sub(1, Ordering::SeqCst);
                        continue;
                    }
                    let (sender, waker, served) =
                        (sender.clone(), waker.try_clone(), clients.clone());
                    let spawned =
                        std::thread::Builder::new()
                            .name("ctl-client".into())
                            .spawn(move || {
                                if let Ok(waker) = waker {
                                    serve_one(stream, uid, &sender, &waker);
                                }
                                served.fetch_sub(1, Ordering::SeqCst);
                            });
                    if spawned.is_err() {
                        clients.fetch_sub(1, Ordering::SeqCst);
                    }
                }
            })?;
        Ok(Server { requests, wake })
    }

    /// Polled by the event loop: readable when requests wait.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.wake.as_fd()
    }

    /// The requests that arrived since the last call.
    pub fn take(&self) -> Vec<Pending> {
        let mut drain = [0u8; 64];
        while matches!((&self.wake).read(&mut drain), Ok(n) if n > 0) {}
        self.requests.try_iter().collect()
    }
}

fn serve_one(mut stream: UnixStream, uid: u32, sender: &Sender<Pending>, waker: &UnixStream) {
    let refuse = |stream: UnixStream, message: String| {
        send(
            stream,
            &Reply {
                ok: false,
                message,
                ..Reply::default()
            },
        )
    };
    match peer_uid(&stream) {
        Some(peer) if peer == uid => {}
        Some(peer) => {
            return refuse(
                stream,
                format!("refused: uid {peer} may not control an instance of uid {uid}"),
            )
        }
        None => return refuse(stream, "refused: the peer's uid is unknown".into()),
    }
    let request = match read_request(&mut stream, Instant::now() + DEADLINE) {
        Ok(r) => r,
        Err(message) => return refuse(stream, message),
    };
    let (reply, answer) = mpsc::sync_channel(1);
    if sender.send(Pending { request, reply }).is_err() {
        return;
    }
    let _ = (&*waker).write(&[1]);
    if let Ok(reply) = answer.recv() {
        send(stream, &reply);
    }
}

fn peer_uid(stream: &UnixStream) -> Option<u32> {
    nix::sys::socket::getsockopt(stream, nix::sys::socket::sockopt::PeerCredentials)
        .ok()
        .map(|c| c.uid())
}

/// Reads one line of JSON, at most [`MAX_REQUEST`] bytes, before `deadline`.
fn read_request(stream: &mut UnixStream, deadline: Instant) -> Result<Request, String> {
    let mut line = Vec::new();
    let mut chunk = [0u8; 4096];
    while !line.contains(&b'\n') {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "bad request: not complete within {} s",
                DEADLINE.as_secs()
            ));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => line.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(format!("bad request: {e}")),
        }
        if line.len() > MAX_REQUEST && !line[..MAX_REQUEST].contains(&b'\n') {
            return Err(format!("bad request: longer than {MAX_REQUEST} bytes"));
        }
    }
    let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
    serde_json::from_slice(&line[..end]).map_err(|e| format!("bad request: {e}"))
}

fn send(mut stream: UnixStream, reply: &Reply) {
    let mut line = serde_json::to_string(reply).expect("serialisable");
    line.push('\n');
    let _ = stream.set_write_timeout(Some(DEADLINE));
    let _ = stream.write_all(line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control;

    fn server() -> (Server, std::path::PathBuf, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let server = Server::start(UnixListener::bind(&path).unwrap()).unwrap();
        (server, path, dir)
    }

    /// Answers every request that arrives until `n` have been answered.
    fn answer(server: &Server, n: usize) -> Vec<Request> {
        let mut seen = vec![];
        while seen.len() < n {
            let mut fds = [nix::poll::PollFd::new(
                server.fd(),
                nix::poll::PollFlags::POLLIN,
            )];
            let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE);
            for p in server.take() {
                seen.push(p.request.clone());
                p.answer(Reply {
                    ok: true,
                    message: "fine".into(),
                    ..Reply::default()
                });
            }
        }
        seen
    }

    #[test]
    fn a_stuck_client_does_not_hold_up_another() {
        let (server, path, _dir) = server();
        // One client sends half a request and then nothing.
        let mut stuck = UnixStream::connect(&path).unwrap();
        stuck.write_all(b"{\"cmd\":").unwrap();
        // Another is answered meanwhile.
        let client = std::thread::spawn({
            let path = path.clone();
            move || control::call(&path, &Request::Status).unwrap()
        });
        assert_eq!(answer(&server, 1), vec![Request::Status]);
        assert!(client.join().unwrap().ok);
        // The stuck one is told why once its deadline passes, and never reaches the loop.
        let mut reply = String::new();
        stuck.read_to_string(&mut reply).unwrap();
        assert!(reply.contains("not complete within 2 s"), "{reply}");
        assert!(server.take().is_empty());
    }

    #[test]
    fn an_endless_request_is_cut_off() {
        let (server, path, _dir) = server();
        let mut client = UnixStream::connect(&path).unwrap();
        let junk = vec![b'x'; MAX_REQUEST + 10_000];
        // The server may close before all is written.
        let _ = client.write_all(&junk);
        let mut reply = String::new();
        let _ = client.read_to_string(&mut reply);
        assert!(reply.contains("longer than 65536 bytes"), "{reply}");
        assert!(server.take().is_empty());
    }
}
