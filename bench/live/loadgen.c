// Load generator for bench:live, run inside a pod namespace (`ip netns exec <pod netns> loadgen
// ...`), never from the root namespace. bench/live/load.ts compiles it with cc.
//
//   loadgen serve PORT
//     A minimal HTTP/1.1 server: answers every request with 200 and closes the connection itself,
//     so the TIME_WAIT state stays on the server side and the clients never run out of ports.
//     Prints {"listening":PORT} once it accepts.
//
//   loadgen load RATE DURATION_MS TARGET [TARGET...]      (TARGET is ip:port)
//     Opens RATE fresh TCP connections per second for DURATION_MS, round-robin over the targets,
//     each carrying one `GET / HTTP/1.1` with `connection: close`, then prints one JSON line:
//     {started, completed, failed, shed, seconds, errors}. Connections beyond MAX_IN_FLIGHT are
//     shed (counted, not opened) rather than queued, so a slow lab lowers the achieved rate
//     instead of stretching the step. It always ends: connections still open DRAIN_MS after the
//     step are counted as DRAINED and closed.
//
// C with one epoll loop rather than node:net because on a 2-core machine the generator competes
// with the agents it measures: the node version took ~47% of a core at 18k flows/s.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_IN_FLIGHT 1024
#define MAX_TARGETS 16
#define TIMEOUT_MS 3000
#define DRAIN_MS 3000
#define TICK_MS 5

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n"
                               "connection: close\r\n\r\nok\n";
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}

// ---- serve ----

static int serve(int port) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 4096) < 0) die("listen");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  printf("{\"listening\":%d}\n", port);
  fflush(stdout);

  struct epoll_event events[256];
  char buf[4096];
  while (!stop_requested) {
    int n = epoll_wait(ep, events, 256, 200);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          int conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (conn < 0) break;
          setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = conn};
          epoll_ctl(ep, EPOLL_CTL_ADD, conn, &cev);
        }
        continue;
      }
      // The request is one small segment: answer once its head has arrived. A request split
      // across reads is answered on the read that completes the head.
      ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0 && memmem(buf, got, "\r\n\r\n", 4) == NULL) continue;
      if (got > 0) (void)!write(fd, RESPONSE, sizeof RESPONSE - 1);
      else if (got < 0 && errno == EAGAIN) continue;
      close(fd);
    }
  }
  return 0;
}

// ---- load ----

struct target {
  struct sockaddr_in addr;
  char request[128];
  size_t request_len;
};

struct conn {
  int fd; // -1: free slot
  double deadline;
  int answered;
  int target;
};

struct counts {
  long started, completed, failed, shed;
};

#define MAX_CODES 32
static struct {
  const char *code;
  long count;
} errors[MAX_CODES];
static struct counts counts;

static void fail(const char *code) {
  counts.failed++;
  for (int i = 0; i < MAX_CODES; i++) {
    if (errors[i].code == NULL) errors[i].code = code;
    if (strcmp(errors[i].code, code) == 0) {
      errors[i].count++;
      return;
    }
  }
}

// node:net's error codes, so reports read as before
static const char *errno_code(int err) {
  switch (err) {
  case ECONNREFUSED: return "ECONNREFUSED";
  case ECONNRESET: return "ECONNRESET";
  case EHOSTUNREACH: return "EHOSTUNREACH";
  case ENETUNREACH: return "ENETUNREACH";
  case ETIMEDOUT: return "ETIMEDOUT";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EPIPE: return "EPIPE";
  case EMFILE: return "EMFILE";
  default: return "ERROR";
  }
}

static struct conn conns[MAX_IN_FLIGHT];
static int free_slots[MAX_IN_FLIGHT];
static int free_count;
static int ep;

static void release(int slot) {
  close(conns[slot].fd);
  conns[slot].fd = -1;
  free_slots[free_count++] = slot;
}

static void open_one(struct target *targets, int n_targets, long *next, double now) {
  int slot = free_slots[--free_count];
  struct conn *c = &conns[slot];
  c->target = (int)(*next % n_targets);
  (*next)++;
  c->answered = 0;
  c->deadline = now + TIMEOUT_MS;
  counts.started++;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    fail(errno_code(errno));
    conns[slot].fd = -1;
    free_slots[free_count++] = slot;
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct target *t = &targets[c->target];
  if (connect(c->fd, (struct sockaddr *)&t->addr, sizeof t->addr) < 0 && errno != EINPROGRESS) {
    fail(errno_code(errno));
    release(slot);
    return;
  }
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)slot};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void on_event(struct target *targets, int slot, uint32_t events) {
  struct conn *c = &conns[slot];
  if (c->fd < 0) return;
  if (events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    fail(errno_code(err ? err : ECONNRESET));
    release(slot);
    return;
  }
  if (events & EPOLLOUT) {
    struct target *t = &targets[c->target];
    if (write(c->fd, t->request, t->request_len) < 0) {
      fail(errno_code(errno));
      release(slot);
      return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)slot};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    char buf[2048];
    for (;;) {
      ssize_t got = read(c->fd, buf, sizeof buf);
      if (got > 0) {
        if (!c->answered && got >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0) c->answered = 1;
        continue;
      }
      if (got == 0) {
        if (c->answered) counts.completed++;
        else fail("NO_RESPONSE");
        release(slot);
      } else if (errno != EAGAIN) {
        fail(errno_code(errno));
        release(slot);
      }
      return;
    }
  }
}

static int load(double rate, double duration_ms, int n_targets, char **target_args) {
  struct target targets[MAX_TARGETS];
  if (n_targets > MAX_TARGETS) n_targets = MAX_TARGETS;
  for (int i = 0; i < n_targets; i++) {
    char host[64];
    const char *colon = strrchr(target_args[i], ':');
    if (!colon || colon - target_args[i] >= (long)sizeof host) {
      fprintf(stderr, "loadgen: target must be ip:port, got %s\n", target_args[i]);
      return 2;
    }
    memcpy(host, target_args[i], colon - target_args[i]);
    host[colon - target_args[i]] = 0;
    targets[i].addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &targets[i].addr.sin_addr) != 1) {
      fprintf(stderr, "loadgen: not an IPv4 address: %s\n", host);
      return 2;
    }
    targets[i].request_len = (size_t)snprintf(targets[i].request, sizeof targets[i].request,
                                              "GET / HTTP/1.1\r\nhost: %s\r\nconnection: close\r\n\r\n",
                                              target_args[i]);
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < MAX_IN_FLIGHT; i++) {
    conns[i].fd = -1;
    free_slots[i] = MAX_IN_FLIGHT - 1 - i;
  }
  free_count = MAX_IN_FLIGHT;

  double started_at = now_ms();
  double finished_at = 0;
  double next_scan = started_at;
  long offered = 0, next = 0;
  struct epoll_event events[512];
  for (;;) {
    double now = now_ms();
    double elapsed = now - started_at;
    if (finished_at == 0) {
      if (elapsed > duration_ms) elapsed = duration_ms;
      // open what the schedule says is due: the rate holds whatever the wake-up jitter
      long due = (long)(rate * elapsed / 1000.0) - offered;
      for (long i = 0; i < due; i++) {
        offered++;
        if (free_count == 0) counts.shed++;
        else open_one(targets, n_targets, &next, now);
      }
      if (elapsed >= duration_ms || stop_requested) finished_at = now;
    }
    if (now >= next_scan) {
      next_scan = now + TICK_MS;
      for (int s = 0; s < MAX_IN_FLIGHT; s++)
        if (conns[s].fd >= 0 && now > conns[s].deadline) {
          fail("TIMEOUT");
          release(s);
        }
    }
    if (finished_at != 0 && (free_count == MAX_IN_FLIGHT || now - finished_at >= DRAIN_MS)) break;
    int n = epoll_wait(ep, events, 512, 1);
    for (int i = 0; i < n; i++) on_event(targets, (int)events[i].data.u32, events[i].events);
  }
  for (int s = 0; s < MAX_IN_FLIGHT; s++)
    if (conns[s].fd >= 0) {
      fail("DRAINED");
      release(s);
    }
  printf("{\"started\":%ld,\"completed\":%ld,\"failed\":%ld,\"shed\":%ld,\"seconds\":%.3f,\"errors\":{",
         counts.started, counts.completed, counts.failed, counts.shed, (finished_at - started_at) / 1000.0);
  for (int i = 0; i < MAX_CODES && errors[i].code; i++)
    printf("%s\"%s\":%ld", i ? "," : "", errors[i].code, errors[i].count);
  printf("}}\n");
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  if (argc == 3 && strcmp(argv[1], "serve") == 0) return serve(atoi(argv[2]));
  if (argc >= 5 && strcmp(argv[1], "load") == 0)
    return load(atof(argv[2]), atof(argv[3]), argc - 4, argv + 4);
  fprintf(stderr, "usage: loadgen serve PORT | loadgen load RATE DURATION_MS IP:PORT...\n");
  return 2;
}
