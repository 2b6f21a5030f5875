/* A paced SSE upstream for tools/bench/streams_bench.sh (issue 24): thousands of concurrent
 * OpenAI chat-completion streams, one chunk per connection every DELAY_MS, WORDS chunks, then
 * the finish chunk, the usage chunk (stream_options.include_usage) and [DONE], in the wire format
 * of OpenAI's streaming API (chat.completion.chunk objects). One thread, epoll, a 5 ms tick: it
 * must cost far less than the proxy it feeds (plumb-mock, one async task per stream, saturated a
 * core at 8,000 streams and could not be the reference).
 *
 *   cc -O2 -o paced_sse_upstream tools/bench/paced_sse_upstream.c
 *   ./paced_sse_upstream PORT [WORDS (300)] [DELAY_MS (100)]
 *
 * Every request (its headers read, its body ignored) gets the same stream; the connection is
 * closed after it. Hand-written because it is the benchmark's instrument, not the product. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAXC 65536
typedef struct { int fd; int state; int sent; long long due; int hdr; } conn;   /* state 0 reading, 1 streaming */
static conn conns[MAXC];
static int words = 300, delay_ms = 100;

static long long now_ms(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void drop(int ep, int fd) { epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); close(fd); conns[fd].fd = -1; }

/* Writes one HTTP chunk holding an SSE event; a full socket buffer drops the connection (the
 * bench's client reads everything, so that means it is gone). */
static int chunk(int fd, const char *event) {
    char buf[1024];
    int n = (int)strlen(event);
    int m = snprintf(buf, sizeof buf, "%x\r\n%s\r\n", n, event);
    return write(fd, buf, m) == m ? 0 : -1;
}

static int step(conn *c) {
    char ev[768];
    const char *head = "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1765000000,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_bench\",";
    if (c->sent == 0)
        snprintf(ev, sizeof ev, "data: %s\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n", head);
    else if (c->sent <= words)
        snprintf(ev, sizeof ev, "data: %s\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word%d \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n", head, c->sent);
    else {
        snprintf(ev, sizeof ev,
                 "data: %s\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"
                 "data: %s\"choices\":[],\"usage\":{\"prompt_tokens\":152,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n"
                 "data: [DONE]\n\n", head, head, words, 152 + words);
        if (chunk(c->fd, ev) < 0) return -1;
        return write(c->fd, "0\r\n\r\n", 5) == 5 ? 1 : -1;
    }
    c->sent++;
    return chunk(c->fd, ev);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT [WORDS] [DELAY_MS]\n", argv[0]); return 2; }
    if (argc > 2) words = atoi(argv[2]);
    if (argc > 3) delay_ms = atoi(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) { perror("listen"); return 1; }
    int ep = epoll_create1(0), tf = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = { .it_interval = { 0, 5000000 }, .it_value = { 0, 5000000 } };
    timerfd_settime(tf, 0, &its, NULL);
    struct epoll_event e = { .events = EPOLLIN, .data.fd = ls };
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
    e.data.fd = tf; epoll_ctl(ep, EPOLL_CTL_ADD, tf, &e);
    for (int i = 0; i < MAXC; i++) conns[i].fd = -1;
    printf("paced SSE upstream listening on http://127.0.0.1:%s (%d chunks, %d ms apart)\n", argv[1], words, delay_ms);
    fflush(stdout);
    int maxfd = 0;
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXC) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[c] = (conn){ .fd = c, .state = 0, .sent = 0, .due = 0, .hdr = 0 };
                    struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                    if (c > maxfd) maxfd = c;
                }
            } else if (fd == tf) {
                unsigned long long ticks; (void)!read(tf, &ticks, sizeof ticks);
                long long t = now_ms();
                for (int c = 0; c <= maxfd; c++) {
                    if (conns[c].fd < 0 || conns[c].state != 1 || conns[c].due > t) continue;
                    int r = step(&conns[c]);
                    if (r != 0) drop(ep, c); else conns[c].due += delay_ms;
                }
            } else {
                char buf[8192];
                ssize_t r = read(fd, buf, sizeof buf);
                if (r <= 0) { if (r == 0 || errno != EAGAIN) drop(ep, fd); continue; }
                conn *c = &conns[fd];
                if (c->state == 0) {
                    /* The end of the headers may span reads: track the last four bytes seen. */
                    for (ssize_t k = 0; k < r; k++) {
                        c->hdr = (c->hdr << 8) | (unsigned char)buf[k];
                        if (c->hdr == 0x0d0a0d0a) {
                            const char *h = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                                            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
                            if (write(fd, h, strlen(h)) < 0 || step(c) < 0) { drop(ep, fd); break; }
                            c->state = 1; c->due = now_ms() + delay_ms;
                            break;
                        }
                    }
                }
            }
        }
    }
}
