// Baseline consumer for bench/ringbuf.ts: drains a pinned BPF ring buffer with libbpf's
// ring_buffer__consume, reading every record's sequence number (as the JS side does), and
// prints how long draining the expected number of records took. It stays up for the whole
// run (one round per stdin line) so the benchmark never forks between measurements.
//
// usage: ringbuf-consumer <pinned ringbuf path>
// stdin:  one line per round: <expected records>
// stdout: one line per round: records=<n> ns=<elapsed> seq_errors=<n>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// struct ws_bench_event from bpf/include/events.h: 24-byte header, then u64 seq.
#define BENCH_SEQ_OFFSET 24

struct state {
	uint64_t records;
	uint64_t next_seq;
	uint64_t seq_errors;
	int first;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct state *s = ctx;
	uint64_t seq;

	if (size < BENCH_SEQ_OFFSET + sizeof(seq)) {
		s->seq_errors++;
		return 0;
	}
	memcpy(&seq, (char *)data + BENCH_SEQ_OFFSET, sizeof(seq));
	if (s->first) {
		s->next_seq = seq;
		s->first = 0;
	}
	if (seq != s->next_seq)
		s->seq_errors++;
	s->next_seq = seq + 1;
	s->records++;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int consume_round(struct ring_buffer *rb, struct state *s, uint64_t expected)
{
	uint64_t start, elapsed;

	s->records = 0;
	s->seq_errors = 0;
	s->first = 1;
	start = now_ns();
	while (s->records < expected) {
		int n = ring_buffer__consume(rb);

		if (n < 0) {
			fprintf(stderr, "ringbuf-consumer: ring_buffer__consume: %s\n", strerror(-n));
			return 1;
		}
		if (n == 0 && ring_buffer__poll(rb, 1000) == 0)
			break; /* a second without data: the producer stopped short */
	}
	elapsed = now_ns() - start;
	printf("records=%llu ns=%llu seq_errors=%llu\n", (unsigned long long)s->records,
	       (unsigned long long)elapsed, (unsigned long long)s->seq_errors);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct state s = { .first = 1 };
	struct ring_buffer *rb;
	unsigned long long expected;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <pinned ringbuf path>  (then one expected count per stdin line)\n", argv[0]);
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "ringbuf-consumer: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	rb = ring_buffer__new(fd, on_record, &s, NULL);
	if (!rb) {
		fprintf(stderr, "ringbuf-consumer: ring_buffer__new: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (scanf("%llu", &expected) == 1) {
		if (consume_round(rb, &s, expected))
			return 1;
	}
	ring_buffer__free(rb);
	return 0;
}
