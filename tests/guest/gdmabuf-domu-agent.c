// SPDX-License-Identifier: MIT
/*
 * gdmabuf-domu-agent: runs in the harness's test domU and carries out the
 * commands dom0's tests write to its xenstore node data/cmd, answering in
 * data/resp.  Each command is "<seq> <verb> <args...>", each answer
 * "<seq> ok|fail <payload>".
 *
 *   ping                              -> ok pong
 *   grant <domid> <count> <seed>      -> ok <handle> <ref,ref,...>
 *	grant <count> pages to <domid> (writable), filled with pattern <seed>;
 *	the refs come as a list with ranges (see gd_format_refs())
 *   refs <handle> <start>             -> ok <next> <ref,ref,...>
 *	the refs of a grant from index <start> on, as many as fit in an
 *	answer; <next> is where the next call starts (the count when done)
 *   check <handle> <seed>             -> ok | fail <word>
 *   fill <handle> <seed>              -> ok
 *   hash <handle>                     -> ok <hex>
 *	gd_hash() of the pages of <handle>, as this domain reads them
 *   free <handle>                     -> ok
 *   mapcheck <domid> <seed> <newseed> <ref,ref,...>
 *	map the refs of <domid>, check pattern <seed>, write <newseed>, unmap
 *   hold <domid> <ref,ref,...>        -> ok <handle>
 *	map the refs of <domid> and keep them mapped (until "unhold" or the
 *	domU dies)
 *   unhold <handle>                   -> ok
 *   exec <shell command>              -> ok|fail <exit status> <last line>
 *	run it with /bin/sh, its output's last line (up to 1000 bytes) back;
 *	"ok" when it exits 0
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include "igt.h"
#include "gdmabuf_test.h"
#include "xs.h"

#define MAX_HANDLES 64
#define MAX_REFS 65536

static struct gd_grant grants[MAX_HANDLES];
static struct gd_mapping held[MAX_HANDLES];

static void do_grant(char *out, size_t size, unsigned int domid, unsigned int count,
		     unsigned int seed)
{
	int h, ret, n;

	for (h = 0; h < MAX_HANDLES && grants[h].count; h++)
		;
	if (h == MAX_HANDLES || !count || count > MAX_REFS) {
		snprintf(out, size, "fail no-handle-or-bad-count");
		return;
	}
	ret = gd_grant_pages(&grants[h], domid, count, true);
	if (ret) {
		snprintf(out, size, "fail gntalloc %s", strerror(-ret));
		return;
	}
	gd_fill_pattern(grants[h].map, count, seed);
	n = snprintf(out, size, "ok %d ", h);
	gd_format_refs(out + n, size - n, grants[h].refs, count);
	/* Too many for one answer: the caller fetches them with "refs". */
	if (strlen(out) >= size - 1)
		snprintf(out, size, "ok %d more", h);
}

static void do_refs(char *out, size_t size, struct gd_grant *g, uint32_t start)
{
	uint32_t n = 0;
	int off;

	if (start > g->count) {
		snprintf(out, size, "fail bad-start");
		return;
	}
	/* The longest prefix whose list fits, found by halving. */
	for (uint32_t step = g->count - start; step; step /= 2) {
		while (start + n + step <= g->count) {
			off = snprintf(out, size, "ok %u ", start + n + step);
			gd_format_refs(out + off, size - off, g->refs + start, n + step);
			if (strlen(out) >= size - 1)
				break;
			n += step;
		}
	}
	off = snprintf(out, size, "ok %u ", start + n);
	gd_format_refs(out + off, size - off, g->refs + start, n);
}

static struct gd_grant *handle(const char *s)
{
	int h = atoi(s);

	return h >= 0 && h < MAX_HANDLES && grants[h].count ? &grants[h] : NULL;
}

static void do_mapcheck(char *out, size_t size, unsigned int domid, unsigned int seed,
			unsigned int newseed, const char *reflist)
{
	static uint32_t refs[MAX_REFS];
	struct gd_mapping m;
	uint32_t count = gd_parse_refs(reflist, refs, MAX_REFS);
	long bad;
	int ret;

	ret = gd_map_grants(&m, domid, refs, count, true);
	if (ret) {
		snprintf(out, size, "fail gntdev-map %s", strerror(-ret));
		return;
	}
	bad = gd_check_pattern(m.map, count, seed);
	if (bad >= 0) {
		snprintf(out, size, "fail pattern word %ld", bad);
	} else {
		gd_fill_pattern(m.map, count, newseed);
		snprintf(out, size, "ok %u", count);
	}
	gd_unmap_grants(&m);
}

static void do_hold(char *out, size_t size, unsigned int domid, const char *reflist)
{
	static uint32_t refs[MAX_REFS];
	uint32_t count = gd_parse_refs(reflist, refs, MAX_REFS);
	int h, ret;

	for (h = 0; h < MAX_HANDLES && held[h].count; h++)
		;
	if (h == MAX_HANDLES) {
		snprintf(out, size, "fail no-handle");
		return;
	}
	ret = gd_map_grants(&held[h], domid, refs, count, true);
	if (ret)
		snprintf(out, size, "fail gntdev-map %s", strerror(-ret));
	else
		snprintf(out, size, "ok %d", h);
}

static void do_exec(const char *cmd, char *out, size_t size)
{
	char line[1024], last[1024] = "";
	FILE *p = popen(cmd, "r");
	int st;

	if (!p) {
		snprintf(out, size, "fail -1 popen: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), p))
		if (line[0] != '\n')
			snprintf(last, sizeof(last), "%s", line);
	st = pclose(p);
	last[strcspn(last, "\n")] = '\0';
	st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	snprintf(out, size, "%s %d %s", st ? "fail" : "ok", st, last);
}

static void run(char *cmd, char *out, size_t size)
{
	char *argv[8] = { 0 };
	int argc = 0;
	struct gd_grant *g;

	if (!strncmp(cmd, "exec ", 5)) {
		do_exec(cmd + 5, out, size);
		return;
	}

	for (char *tok = strtok(cmd, " "); tok && argc < 8; tok = strtok(NULL, " "))
		argv[argc++] = tok;

	if (argc >= 1 && !strcmp(argv[0], "ping")) {
		snprintf(out, size, "ok pong");
	} else if (argc == 4 && !strcmp(argv[0], "grant")) {
		do_grant(out, size, atoi(argv[1]), atoi(argv[2]), strtoul(argv[3], NULL, 0));
	} else if (argc == 3 && !strcmp(argv[0], "refs") && (g = handle(argv[1]))) {
		do_refs(out, size, g, strtoul(argv[2], NULL, 0));
	} else if (argc == 3 && !strcmp(argv[0], "check") && (g = handle(argv[1]))) {
		long bad = gd_check_pattern(g->map, g->count, strtoul(argv[2], NULL, 0));

		if (bad < 0)
			snprintf(out, size, "ok");
		else
			snprintf(out, size, "fail pattern word %ld", bad);
	} else if (argc == 3 && !strcmp(argv[0], "fill") && (g = handle(argv[1]))) {
		gd_fill_pattern(g->map, g->count, strtoul(argv[2], NULL, 0));
		snprintf(out, size, "ok");
	} else if (argc == 2 && !strcmp(argv[0], "hash") && (g = handle(argv[1]))) {
		snprintf(out, size, "ok %llx",
			 (unsigned long long)gd_hash(g->map, (size_t)g->count * GD_PAGE_SIZE));
	} else if (argc == 2 && !strcmp(argv[0], "free") && (g = handle(argv[1]))) {
		gd_grant_free(g);
		snprintf(out, size, "ok");
	} else if (argc == 5 && !strcmp(argv[0], "mapcheck")) {
		do_mapcheck(out, size, atoi(argv[1]), strtoul(argv[2], NULL, 0),
			    strtoul(argv[3], NULL, 0), argv[4]);
	} else if (argc == 3 && !strcmp(argv[0], "hold")) {
		do_hold(out, size, atoi(argv[1]), argv[2]);
	} else if (argc == 2 && !strcmp(argv[0], "unhold") && atoi(argv[1]) >= 0 &&
		   atoi(argv[1]) < MAX_HANDLES && held[atoi(argv[1])].count) {
		gd_unmap_grants(&held[atoi(argv[1])]);
		snprintf(out, size, "ok");
	} else {
		snprintf(out, size, "fail unknown-command");
	}
}

int main(void)
{
	/* oxenstored refuses values above 2048 bytes from a domU (quota-maxsize). */
	static char cmd[4096], out[2000], resp[2048];
	unsigned long last = 0;
	struct gd_xs *xs;
	FILE *fp;

	/*
	 * gntalloc allows 1024 grants by default; the benchmark offers up to
	 * 65536 pages from here.
	 */
	fp = fopen("/sys/module/xen_gntalloc/parameters/limit", "w");
	if (fp) {
		fprintf(fp, "%u\n", 2 * MAX_REFS);
		fclose(fp);
	}
	while (!(xs = gd_xs_open()))
		sleep(1);
	gd_xs_write(xs, "data/resp", "0 ok");
	gd_xs_write(xs, "data/agent", "ready");
	printf("gdmabuf-domu-agent: ready\n");
	fflush(stdout);

	for (;;) {
		unsigned long seq;
		char *end;

		if (gd_xs_read(xs, "data/cmd", cmd, sizeof(cmd)) <= 0) {
			usleep(10000);
			continue;
		}
		seq = strtoul(cmd, &end, 10);
		if (seq == last || *end != ' ') {
			usleep(10000);
			continue;
		}
		last = seq;
		run(end + 1, out, sizeof(out));
		snprintf(resp, sizeof(resp), "%lu %s", seq, out);
		if (gd_xs_write(xs, "data/resp", resp))
			fprintf(stderr, "gdmabuf-domu-agent: cannot answer %lu\n", seq);
	}
}
