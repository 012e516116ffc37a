#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hostile HTTP clients against a metrics server, while a normal scrape is timed.

usage: http_abuse.py HOST PORT MODE [N] [--seconds S] [--path P] [--keepalive]

MODE is what the attackers do, each kind in a process of its own:
  idle N       N connections that send nothing (default 1000)
  slowloris N  N connections that send a request's headers one byte every 0.5 s
               (default 1000)
  junk N       N connections that send garbage, oversized or refused requests, again
               and again (default 50)
  all [N]      all three at once, each with its default or N
Every attacker opens a new connection as soon as the server closes one, so the pressure
lasts. Meanwhile the main process scrapes PATH every 0.25 s on a new connection (with
--keepalive: on one connection, reopened and retried once if the server closed it, as
Prometheus does), and prints

  scrapes=<n> failed=<n> max_ms=<n>

It exits 1 if a scrape failed: no 200 within 5 s. How long they took is printed, never
judged: timings belong to the benchmarks. What the attackers did goes to stderr.
"""
import argparse
import errno
import json
import os
import random
import resource
import selectors
import signal
import socket
import sys
import time

DEFAULTS = {"idle": 1000, "slowloris": 1000, "junk": 50}
SCRAPE_EVERY_S = 0.25
SCRAPE_TIMEOUT_S = 5.0
LORIS_EVERY_S = 0.5


def raise_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"http_abuse: only {soft} descriptors for {needed} sockets", file=sys.stderr)


def junk_payload(host):
    """One hostile request, chosen at random."""
    choice = random.randrange(12)
    if choice == 0:
        return os.urandom(random.randint(1, 4096))
    if choice == 1:
        return b"GARBAGE " + os.urandom(64).replace(b"\n", b"") + b"\r\n\r\n"
    if choice == 2:  # headers far beyond any limit
        return b"GET / HTTP/1.1\r\nHost: " + host + b"\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
    if choice == 3:  # a URI far beyond any limit
        return b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n"
    if choice == 4:  # a body, announced and sent
        return (b"POST /metrics HTTP/1.1\r\nHost: " + host +
                b"\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000)
    if choice == 5:
        return (b"GET /metrics HTTP/1.1\r\nHost: " + host +
                b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    if choice == 6:
        return b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    if choice == 7:
        return b"GET / HTTP/9.9\r\nHost: " + host + b"\r\n\r\n"
    if choice == 8:  # many tiny headers
        return (b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n" +
                b"".join(b"X-%d: v\r\n" % i for i in range(2000)) + b"\r\n")
    if choice == 9:  # a header line with no colon, and a NUL in the path
        return b"GET /\x00metrics HTTP/1.1\r\nHost: " + host + b"\r\nno colon here\r\n\r\n"
    if choice == 10:  # pipelined refusals
        return b"".join(b"DELETE /x HTTP/1.1\r\nHost: " + host + b"\r\n\r\n" for _ in range(20))
    return b"GET /metrics HTTP/1.1\r\nHost: " + host  # half a request, then nothing


class Attack:
    """N connections of one kind, each reopened when the server closes it."""

    def __init__(self, mode, n, addr, host):
        self.mode, self.n, self.addr, self.host = mode, n, addr, host
        self.sel = selectors.DefaultSelector()
        self.stats = {"mode": mode, "connections": n, "opened": 0, "closed_by_server": 0,
                      "connect_errors": 0, "bytes_sent": 0}

    def open(self):
        sock = socket.socket(self.addr[0], socket.SOCK_STREAM)
        sock.setblocking(False)
        err = sock.connect_ex(self.addr[1])
        if err not in (0, errno.EINPROGRESS):
            self.stats["connect_errors"] += 1
            sock.close()
            return
        self.stats["opened"] += 1
        # Junk is sent once connected, and a slow request's first byte too, so that the
        # kernel hands the connection over at once (TCP_DEFER_ACCEPT would hold it).
        pending = {"junk": junk_payload(self.host), "slowloris": b"G"}.get(self.mode, b"")
        state = {"pending": pending, "loris": len(pending)}
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if state["pending"] else 0)
        self.sel.register(sock, events, state)

    def drop(self, sock, by_server):
        if by_server:
            self.stats["closed_by_server"] += 1
        self.sel.unregister(sock)
        sock.close()
        self.open()

    def send(self, sock, data):
        try:
            sent = sock.send(data)
        except BlockingIOError:
            return 0
        except OSError:
            self.drop(sock, True)
            return None
        self.stats["bytes_sent"] += sent
        return sent

    def on_ready(self, key, mask):
        sock, state = key.fileobj, key.data
        if mask & selectors.EVENT_READ:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                data = None
            except OSError:
                data = b""
            if data == b"":
                self.drop(sock, True)
                return
            if data and self.mode == "junk":  # answered: next garbage, new connection
                self.drop(sock, False)
                return
        if mask & selectors.EVENT_WRITE and state["pending"]:
            sent = self.send(sock, state["pending"])
            if sent is None:
                return
            state["pending"] = state["pending"][sent:]
            if not state["pending"]:
                self.sel.modify(sock, selectors.EVENT_READ, state)

    def loris_tick(self):
        """One more byte of an endless request on every slow connection."""
        start = b"GET /metrics HTTP/1.1\r\nHost: " + self.host + b"\r\n"
        more = b"X-a: b\r\n"  # header after header, never the blank line
        for key in list(self.sel.get_map().values()):
            i = key.data["loris"]
            byte = start[i:i + 1] if i < len(start) else more[(i - len(start)) % len(more):][:1]
            if self.send(key.fileobj, byte):
                key.data["loris"] = i + 1

    def run(self, until):
        for _ in range(self.n):
            self.open()
        next_tick = time.monotonic() + LORIS_EVERY_S
        while time.monotonic() < until:
            timeout = max(0.0, min(until, next_tick) - time.monotonic())
            for key, mask in self.sel.select(timeout):
                if key.fileobj.fileno() >= 0:
                    self.on_ready(key, mask)
            if self.mode == "slowloris" and time.monotonic() >= next_tick:
                self.loris_tick()
                next_tick += LORIS_EVERY_S


def start_attack(mode, n, addr, host, until):
    """Forks a process for the attack; its stats come back through a pipe."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        attack = Attack(mode, n, addr, host)
        try:
            attack.run(until)
        finally:
            os.write(wfd, json.dumps(attack.stats).encode())
            os._exit(0)
    os.close(wfd)
    return pid, rfd


def read_reply(sock):
    """Status and body of one reply, read to its Content-Length or to the end."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while length is None or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            if length is None:
                break
            raise ConnectionError("closed within the body")
        body += chunk
    return status, body


class Scraper:
    def __init__(self, addr, host, path, keepalive):
        self.addr, self.keepalive, self.sock = addr, keepalive, None
        connection = b"keep-alive" if keepalive else b"close"
        self.request = (b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + host +
                        b"\r\nConnection: " + connection + b"\r\n\r\n")

    def connect(self):
        self.sock = socket.socket(self.addr[0], socket.SOCK_STREAM)
        self.sock.settimeout(SCRAPE_TIMEOUT_S)
        self.sock.connect(self.addr[1])

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def once(self):
        """One scrape; True if it was answered 200 with a body."""
        fresh = self.sock is None
        if fresh:
            self.connect()
        try:
            self.sock.sendall(self.request)
            status, body = read_reply(self.sock)
        except (ConnectionError, BrokenPipeError):
            if fresh:
                raise
            # The server closed the idle connection: a new one, as HTTP clients do.
            self.close()
            self.connect()
            self.sock.sendall(self.request)
            status, body = read_reply(self.sock)
        if not self.keepalive:
            self.close()
        return status == 200 and len(body) > 0

    def timed(self):
        start = time.monotonic()
        try:
            ok = self.once()
        except OSError as e:
            print(f"http_abuse: scrape failed: {e}", file=sys.stderr)
            self.close()
            ok = False
        return ok, (time.monotonic() - start) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("mode", choices=["idle", "slowloris", "junk", "all"])
    parser.add_argument("n", type=int, nargs="?")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--path", default="/metrics")
    parser.add_argument("--keepalive", action="store_true")
    args = parser.parse_args()

    info = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0]
    addr = (info[0], info[4])
    host = (f"[{args.host}]" if ":" in args.host else args.host).encode()
    modes = list(DEFAULTS) if args.mode == "all" else [args.mode]
    counts = {mode: args.n or DEFAULTS[mode] for mode in modes}
    raise_file_limit(sum(counts.values()) + 64)

    until = time.monotonic() + args.seconds
    attacks = [start_attack(mode, counts[mode], addr, host, until) for mode in modes]
    scraper = Scraper(addr, host, args.path, args.keepalive)
    scrapes = failed = 0
    max_ms = 0.0
    next_scrape = time.monotonic()
    try:
        while time.monotonic() < until:
            ok, ms = scraper.timed()
            scrapes += 1
            failed += not ok
            max_ms = max(max_ms, ms)
            next_scrape += SCRAPE_EVERY_S
            time.sleep(max(0.0, next_scrape - time.monotonic()))
    finally:
        scraper.close()
        for pid, rfd in attacks:
            with os.fdopen(rfd) as pipe:
                stats = pipe.read()
            os.waitpid(pid, 0)
            print(f"http_abuse: {stats}", file=sys.stderr)
    print(f"scrapes={scrapes} failed={failed} max_ms={round(max_ms)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
