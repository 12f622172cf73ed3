// SPDX-License-Identifier: MIT
/*
 * gdmabuf-runner: runs one subtest in dom0 and reports it, with the checks
 * runner-lib.sh made after every test in shell: the kernel log (klog-
 * patterns), the taint flags and the module's counters.  In C because the
 * shell version forked about twenty processes per subtest, and a fork in a
 * PV dom0 under TCG costs a tenth of a second or more: 3 to 5 s of every
 * subtest went to the checks.
 *
 *   gdmabuf-runner BIN SUB
 *
 * Environment: GD_TEST_TIMEOUT (seconds), GD_INJECT_WARN (non-empty: raise
 * the module's test warning after the subtest, to prove the gate), LOGS
 * (default /tmp/gd).  Writes LOGS/BIN@SUB.log, appends to LOGS/kernel.log,
 * keeps the taint seen last in LOGS/taint, and prints the TIME, RESULT and
 * (on failure) LOG lines of tests/guest/markers.sh.  Exit status 0 pass,
 * 1 fail, 2 skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATTERNS	"/opt/gdmabuf/klog-patterns"
#define STATS		"/sys/kernel/debug/gntdev-dmabuf/stats"
#define DOMAINS		"/sys/kernel/debug/gntdev-dmabuf/domains"
#define INJECT		"/sys/kernel/debug/gntdev-dmabuf/inject"
/* O (out-of-tree) and E (unsigned) are expected for our module. */
#define TAINT_OK	((1ul << 12) | (1ul << 13))

static char reason[4096];

static void emit(const char *kind, const char *a, const char *b, const char *c)
{
	printf("@@GD %s\t%s", kind, a);
	if (b)
		printf("\t%s", b);
	if (c)
		printf("\t%s", c);
	printf("\n");
}

static double uptime(void)
{
	double t = 0;
	FILE *f = fopen("/proc/uptime", "r");

	if (f) {
		if (fscanf(f, "%lf", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t;
}

static char *slurp(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	FILE *f = fopen(path, "r");
	size_t got;

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *b = realloc(buf, cap * 2 + 1);

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Appends " ; " and @s to the reason. */
static void why_add(char *why, size_t size, const char *s)
{
	size_t n = strlen(why);

	snprintf(why + n, size - n, "%s%s", n ? "; " : "", s);
}

/* The kernel's new messages, cleared; priority prefixes dropped. */
static char *klog_take(void)
{
	int size = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	char *raw, *out, *p, *q;
	int n;

	if (size <= 0)
		size = 1 << 20;
	raw = malloc(size + 1);
	out = malloc(size + 1);
	if (!raw || !out)
		exit(1);
	n = klogctl(4, raw, size);		/* SYSLOG_ACTION_READ_CLEAR */
	if (n < 0)
		n = 0;
	raw[n] = '\0';
	for (p = raw, q = out; *p; ) {
		if (*p == '<') {
			char *e = strchr(p, '>');

			if (e && e - p <= 4)
				p = e + 1;
		}
		while (*p && *p != '\n')
			*q++ = *p++;
		if (*p)
			*q++ = *p++;
	}
	*q = '\0';
	free(raw);
	return out;
}

/*
 * Appends the kernel log to @log and LOGS/kernel.log; adds to @why the
 * first line that a klog-patterns entry matches, and a taint change.
 */
static void klog_check(const char *logs, FILE *log, char *why, size_t size)
{
	char *klog = klog_take(), *pats = slurp(PATTERNS, NULL), path[512], line[600];
	regex_t re[64];
	int nre = 0, lineno = 0, bad = -1;
	unsigned long taint = 0, seen = 0;
	char *p, *save = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kernel.log", logs);
	f = fopen(path, "a");
	if (f) {
		fputs(klog, f);
		fclose(f);
	}
	fprintf(log, "---- kernel log ----\n%s", klog);
	for (p = pats ? strtok_r(pats, "\n", &save) : NULL; p && nre < 64;
	     p = strtok_r(NULL, "\n", &save))
		if (*p && !regcomp(&re[nre], p, REG_EXTENDED | REG_NOSUB))
			nre++;
	for (p = klog; *p && bad < 0; lineno++) {
		char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		for (int i = 0; i < nre; i++)
			if (!regexec(&re[i], line, 0, NULL, 0)) {
				char msg[640];

				bad = lineno;
				snprintf(msg, sizeof(msg), "kernel log: %s", line);
				why_add(why, size, msg);
				break;
			}
		p += n + (e != NULL);
	}
	if (bad >= 0) {
		/* A failure sends the end of the log: end it with the first splat. */
		fprintf(log, "---- the first bad kernel message ----\n");
		lineno = 0;
		for (p = klog; *p; lineno++) {
			char *e = strchr(p, '\n');
			size_t n = e ? (size_t)(e - p) : strlen(p);

			if (lineno >= bad - 5 && lineno <= bad + 50)
				fprintf(log, "%.*s\n", (int)n, p);
			p += n + (e != NULL);
		}
	}
	for (int i = 0; i < nre; i++)
		regfree(&re[i]);
	free(pats);
	free(klog);

	p = slurp("/proc/sys/kernel/tainted", NULL);
	if (p) {
		taint = strtoul(p, NULL, 10);
		free(p);
	}
	snprintf(path, sizeof(path), "%s/taint", logs);
	p = slurp(path, NULL);
	if (p) {
		seen = strtoul(p, NULL, 10);
		free(p);
	}
	if ((taint & ~TAINT_OK) != seen) {
		char msg[64];

		snprintf(msg, sizeof(msg), "kernel taint changed to %lu", taint);
		why_add(why, size, msg);
		f = fopen(path, "w");
		if (f) {
			fprintf(f, "%lu\n", taint & ~TAINT_OK);
			fclose(f);
		}
	}
}

/* The module's counters that are not back to zero, and charged quotas. */
static void stats_check(char *leak, size_t size)
{
	char *s = slurp(STATS, NULL), *d = slurp(DOMAINS, NULL), *p, *save = NULL;
	size_t n;

	leak[0] = '\0';
	for (p = s ? strtok_r(s, "\n", &save) : NULL; p; p = strtok_r(NULL, "\n", &save)) {
		char name[128];
		unsigned long long v;

		if (sscanf(p, "%127s %llu", name, &v) == 2 && v) {
			n = strlen(leak);
			snprintf(leak + n, size - n, "%s%s=%llu", n ? " " : "", name, v);
		}
	}
	for (p = d ? strtok_r(d, "\n", &save) : NULL; p; p = strtok_r(NULL, "\n", &save)) {
		unsigned long long dom, pages;

		if (sscanf(p, "%llu %llu", &dom, &pages) == 2) {
			n = strlen(leak);
			snprintf(leak + n, size - n, " domain%llu-charged=%llu", dom, pages);
		}
	}
	free(s);
	free(d);
}

/* The subtest's own reason: "Subtest SUB: SKIP|FAIL (t s) (reason)", or its summary. */
static void log_reason(const char *text, const char *sub, int pass)
{
	char head[256];
	const char *p;

	reason[0] = '\0';
	if (pass) {
		for (p = text; (p = strstr(p, "summary: ")); p++)
			if (p == text || p[-1] == '\n')
				snprintf(reason, sizeof(reason), "%.*s", (int)strcspn(p + 9, "\n"), p + 9);
		return;
	}
	snprintf(head, sizeof(head), "Subtest %s: ", sub);
	for (p = text; (p = strstr(p, head)); p++) {
		const char *r;

		if ((p != text && p[-1] != '\n') ||
		    (strncmp(p + strlen(head), "SKIP", 4) && strncmp(p + strlen(head), "FAIL", 4)))
			continue;
		r = strstr(p, "s) (");
		if (r && r < p + strcspn(p, "\n")) {
			size_t n = strcspn(r + 4, "\n");

			if (n && r[4 + n - 1] == ')')
				n--;
			snprintf(reason, sizeof(reason), "%.*s", (int)n, r + 4);
		}
		return;
	}
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out++;
}

int main(int argc, char **argv)
{
	const char *logs = getenv("LOGS") ?: "/tmp/gd", *inject = getenv("GD_INJECT_WARN");
	int timeout = getenv("GD_TEST_TIMEOUT") ? atoi(getenv("GD_TEST_TIMEOUT")) : 300;
	char name[256], path[512], why[2048] = "", leak[1024], detail[8192], t0s[32], t1s[32];
	const char *status;
	struct sigaction sa = { .sa_handler = on_alarm };
	char *bin, *text;
	int st = 0, rc;
	double t0, t1;
	pid_t pid;
	FILE *log;

	if (argc != 3)
		return 1;
	bin = strdup(argv[1]);
	snprintf(name, sizeof(name), "%s@%s", basename(bin), argv[2]);
	snprintf(path, sizeof(path), "%s/%s.log", logs, name);
	klogctl(5, NULL, 0);			/* SYSLOG_ACTION_CLEAR */
	fflush(stdout);
	t0 = uptime();
	pid = fork();
	if (!pid) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(argv[1], argv[1], "--run-subtest", argv[2], (char *)NULL);
		_exit(127);
	}
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);
	/* As timeout(1): SIGTERM at the limit; SIGKILL 10 s later if need be. */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
		if (timed_out == 1) {
			kill(-pid, SIGTERM);
			kill(pid, SIGTERM);
			alarm(10);
		} else if (timed_out > 1) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
	}
	alarm(0);
	t1 = uptime();
	snprintf(t0s, sizeof(t0s), "%.2f", t0);
	snprintf(t1s, sizeof(t1s), "%.2f", t1);
	emit("TIME", name, t0s, t1s);
	rc = timed_out ? 124 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

	if (inject && *inject) {
		FILE *f = fopen(INJECT, "w");

		if (f) {
			fputs("warn", f);
			fclose(f);
		}
	}
	log = fopen(path, "a");
	if (!log)
		return 1;
	klog_check(logs, log, why, sizeof(why));
	fclose(log);
	stats_check(leak, sizeof(leak));
	text = slurp(path, NULL) ?: strdup("");
	log_reason(text, argv[2], rc == 0);

	switch (rc) {
	case 0: status = "pass"; break;
	case 77: status = "skip"; break;
	case 124:
		status = "fail";
		snprintf(reason, sizeof(reason), "timed out after %ds", timeout);
		break;
	default:
		status = "fail";
		if (!reason[0])
			snprintf(reason, sizeof(reason), "exit status %d", rc);
		break;
	}
	snprintf(detail, sizeof(detail), "%s", reason);
	if (why[0]) {
		status = "fail";
		snprintf(detail, sizeof(detail), "%s%s%s", why, reason[0] ? "; " : "", reason);
	}
	if (leak[0]) {
		char d2[sizeof(detail) + sizeof(leak) + 64];

		status = "fail";
		snprintf(d2, sizeof(d2), "module counters not back to zero: %s%s%s", leak,
			 detail[0] ? "; " : "", detail);
		/* Only the first 300 bytes go out. */
		memcpy(detail, d2, sizeof(detail) - 1);
		detail[sizeof(detail) - 1] = '\0';
	}
	for (char *c = detail; *c; c++)
		if (*c == '\t' || *c == '\n')
			*c = ' ';
	detail[300] = '\0';
	emit("RESULT", name, status, detail);
	if (!strcmp(status, "fail")) {
		/* The last 60 lines of the log. */
		int lines = 0;
		char *p = text + strlen(text);

		while (p > text && lines <= 60)
			if (*--p == '\n')
				lines++;
		if (*p == '\n')
			p++;
		while (*p) {
			size_t n = strcspn(p, "\n");
			char l[1024];

			snprintf(l, sizeof(l), "%.*s", (int)n, p);
			emit("LOG", name, l, NULL);
			p += n + (p[n] == '\n');
		}
	}
	free(text);
	fflush(stdout);
	return !strcmp(status, "pass") ? 0 : !strcmp(status, "skip") ? 2 : 1;
}
