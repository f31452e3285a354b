//! The loopback setup bwrap does in a new net namespace (bubblewrap `network.c` `loopback_setup`: RTM_NEWADDR
//! 127.0.0.1/8 then RTM_NEWLINK IFF_UP, each with NLM_F_ACK), done with our own rtnetlink requests so the
//! kernel's `nlmsgerr.error` is read directly: bwrap prints a stale errno there (bubblewrap `network.c` reports `errno` after a netlink reply that carried the real error).

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, sendto, socket,
};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// Which call of a netlink exchange failed (recorded as step data `failed_call`).
pub type Failure = (&'static str, Errno);

/// `socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)` + `bind`, as bwrap does.
pub fn open() -> Result<OwnedFd, Failure> {
    let fd = socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkRoute)
        .map_err(|e| ("socket", e))?;
    bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(|e| ("bind", e))?;
    Ok(fd)
}

/// The result of one acknowledged request: the kernel's `nlmsgerr.error` (0 or a negative errno).
pub type Ack = i32;

fn request(
    fd: &OwnedFd,
    seq: u32,
    msg_type: u16,
    flags: u16,
    body: &[u8],
    attrs: &[(u16, &[u8])],
) -> Result<Ack, Failure> {
    let mut msg = vec![0u8; NLMSG_HDRLEN];
    msg.extend_from_slice(body);
    for (kind, data) in attrs {
        let len = u16::try_from(4 + data.len()).map_err(|_| ("encode", Errno::EINVAL))?;
        msg.extend_from_slice(&len.to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(data);
        while msg.len() % 4 != 0 {
            msg.push(0);
        }
    }
    let total = u32::try_from(msg.len()).map_err(|_| ("encode", Errno::EINVAL))?;
    let all_flags = flags | (libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16;
    put(&mut msg, 0, &total.to_ne_bytes());
    put(&mut msg, 4, &msg_type.to_ne_bytes());
    put(&mut msg, 6, &all_flags.to_ne_bytes());
    put(&mut msg, 8, &seq.to_ne_bytes());
    sendto(fd.as_raw_fd(), &msg, &NetlinkAddr::new(0, 0), MsgFlags::empty()).map_err(|e| ("sendto", e))?;
    let mut buf = vec![0u8; 16384];
    // Read until the ACK for our sequence number; anything else (multicast, other replies) is skipped.
    for _ in 0..16 {
        let n = loop {
            match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
                Err(Errno::EINTR) => continue,
                other => break other.map_err(|e| ("recv", e))?,
            }
        };
        let mut off = 0usize;
        while off + NLMSG_HDRLEN <= n {
            let len = u32_at(&buf, off) as usize;
            let kind = u16_at(&buf, off + 4);
            let rseq = u32_at(&buf, off + 8);
            if len < NLMSG_HDRLEN || off + len > n {
                break;
            }
            if rseq == seq && kind == NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 {
                return Ok(i32::from_ne_bytes([
                    byte(&buf, off + 16),
                    byte(&buf, off + 17),
                    byte(&buf, off + 18),
                    byte(&buf, off + 19),
                ]));
            }
            if rseq == seq && kind == NLMSG_DONE {
                return Ok(0);
            }
            off += (len + 3) & !3;
        }
    }
    Err(("recv", Errno::EPROTO))
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn byte(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

fn u16_at(buf: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([byte(buf, at), byte(buf, at + 1)])
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([byte(buf, at), byte(buf, at + 1), byte(buf, at + 2), byte(buf, at + 3)])
}

/// Index of `lo` in the current net namespace.
pub fn lo_index() -> Result<u32, Failure> {
    nix::net::if_::if_nametoindex("lo").map_err(|e| ("if_nametoindex", e))
}

/// RTM_NEWADDR 127.0.0.1/8 on `lo` (IFA_F_PERMANENT, RT_SCOPE_HOST, NLM_F_CREATE|NLM_F_EXCL), as bwrap.
pub fn new_addr(fd: &OwnedFd, index: u32) -> Result<Ack, Failure> {
    // struct ifaddrmsg { u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index }
    let mut ifa = vec![libc::AF_INET as u8, 8, libc::IFA_F_PERMANENT as u8, libc::RT_SCOPE_HOST];
    ifa.extend_from_slice(&index.to_ne_bytes());
    let addr = [127u8, 0, 0, 1];
    let flags = (libc::NLM_F_CREATE | libc::NLM_F_EXCL) as u16;
    request(fd, 1, libc::RTM_NEWADDR, flags, &ifa, &[(libc::IFA_LOCAL, &addr), (libc::IFA_ADDRESS, &addr)])
}

/// RTM_NEWLINK with IFF_UP on `lo`, as bwrap.
pub fn link_up(fd: &OwnedFd, index: u32) -> Result<Ack, Failure> {
    // struct ifinfomsg { u8 family, u8 pad, u16 type, i32 index, u32 flags, u32 change }
    let mut ifi = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
    ifi.extend_from_slice(&index.to_ne_bytes());
    ifi.extend_from_slice(&(libc::IFF_UP as u32).to_ne_bytes());
    ifi.extend_from_slice(&(libc::IFF_UP as u32).to_ne_bytes());
    request(fd, 2, libc::RTM_NEWLINK, 0, &ifi, &[])
}
