// SPDX-License-Identifier: MIT
/*
 * Implementation of the IGT subset declared in igt.h.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>

#include "igt.h"

sigjmp_buf __igt_jmp;

enum igt_state { IGT_IDLE, IGT_RUNNING, IGT_DONE };

static const char *run_pattern;
static bool list_only;
static bool describe_only;
static bool pattern_matched;
static enum igt_state state;
static char current[128];
static const char *pending_description;
static struct timespec started;
static int n_success, n_skip, n_fail;
/* Set by a fixture that skipped (77) or failed (98): later subtests follow. */
static int fixture_verdict;
static char fixture_reason[256];

static double elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - started.tv_sec) + (now.tv_nsec - started.tv_nsec) / 1e9;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--list-subtests | --describe | --run-subtest NAME]\n", prog);
	exit(IGT_EXIT_INVALID);
}

void __igt_init(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--list-subtests"))
			list_only = true;
		else if (!strcmp(argv[i], "--describe"))
			describe_only = true;
		else if (!strcmp(argv[i], "--run-subtest") && i + 1 < argc)
			run_pattern = argv[++i];
		else if (!strncmp(argv[i], "--run-subtest=", 14))
			run_pattern = argv[i] + 14;
		else
			usage(argv[0]);
	}
	if (describe_only && __igt_test_description)
		printf("%s\n\n", __igt_test_description);
}

bool igt_only_list_subtests(void)
{
	return list_only || describe_only;
}

const char *igt_subtest_name(void)
{
	return state == IGT_RUNNING ? current : NULL;
}

void igt_describe(const char *description)
{
	pending_description = description;
}

static bool valid_name(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

bool __igt_run_subtest(const char *name)
{
	const char *description = pending_description;

	if (state == IGT_DONE) {
		state = IGT_IDLE;
		return false;
	}
	pending_description = NULL;

	if (!valid_name(name)) {
		fprintf(stderr, "invalid subtest name \"%s\"\n", name);
		exit(IGT_EXIT_INVALID);
	}
	if (list_only) {
		printf("%s\n", name);
		return false;
	}
	if (describe_only) {
		printf("SUB %s: %s\n", name, description ? description : "(undocumented)");
		return false;
	}
	if (run_pattern && fnmatch(run_pattern, name, 0))
		return false;
	pattern_matched = true;

	snprintf(current, sizeof(current), "%s", name);
	if (fixture_verdict) {
		/* the same shape as a subtest's own verdict, which runners parse */
		printf("Subtest %s: %s (0.000s) (%s)\n", name,
		       fixture_verdict == IGT_EXIT_SKIP ? "SKIP" : "FAIL", fixture_reason);
		if (fixture_verdict == IGT_EXIT_SKIP)
			n_skip++;
		else
			n_fail++;
		return false;
	}

	printf("Starting subtest: %s\n", name);
	clock_gettime(CLOCK_MONOTONIC, &started);
	state = IGT_RUNNING;
	return true;
}

void __igt_subtest_success(void)
{
	printf("Subtest %s: SUCCESS (%.3fs)\n", current, elapsed());
	n_success++;
	state = IGT_DONE;
}

bool __igt_fixture(void)
{
	if (list_only || describe_only || fixture_verdict)
		return false;
	state = IGT_IDLE;
	current[0] = '\0';
	return true;
}

void __igt_fixture_end(void)
{
}

void __igt_subtest_group_save(int *saved)
{
	*saved = fixture_verdict;
}

/*
 * A fixture only runs while fixture_verdict is 0, so a group that set it
 * did so from 0 and the reason it wrote is not the outer one's.
 */
void __igt_subtest_group_restore(int saved)
{
	fixture_verdict = saved;
}

static __attribute__((format(printf, 3, 0)))
void vreason(char *buf, size_t size, const char *fmt, va_list ap)
{
	size_t len;

	vsnprintf(buf, size, fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
}

/* Ends the running subtest or fixture with @verdict and jumps out of it. */
static void __attribute__((noreturn)) leave(int verdict, const char *reason)
{
	if (state == IGT_RUNNING) {
		printf("Subtest %s: %s (%.3fs) (%s)\n", current,
		       verdict == IGT_EXIT_SKIP ? "SKIP" : "FAIL", elapsed(), reason);
		if (verdict == IGT_EXIT_SKIP)
			n_skip++;
		else
			n_fail++;
	} else {
		/* In a fixture: every later subtest gets this verdict. */
		fixture_verdict = verdict;
		snprintf(fixture_reason, sizeof(fixture_reason), "fixture: %s", reason);
		if (verdict == IGT_EXIT_FAILURE)
			n_fail++;
	}
	state = IGT_IDLE;
	siglongjmp(__igt_jmp, 1);
}

void igt_skip(const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vreason(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	printf("Test requirement not met: %s\n", reason);
	leave(IGT_EXIT_SKIP, reason);
}

void __igt_skip_check(const char *file, int line, const char *func, const char *cond)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "requirement \"%s\" not met in %s(), %s:%d",
		 cond, func, file, line);
	printf("Test requirement not met: %s\n", reason);
	leave(IGT_EXIT_SKIP, reason);
}

void igt_fail(int exitcode)
{
	(void)exitcode;
	leave(IGT_EXIT_FAILURE, "igt_fail()");
}

void __igt_fail_assert(const char *file, int line, const char *func,
		       const char *cond, const char *fmt, ...)
{
	char reason[512];
	int n;

	n = snprintf(reason, sizeof(reason), "%s:%d %s(): assertion \"%s\" failed (errno %d: %s)",
		     file, line, func, cond, errno, strerror(errno));
	if (fmt && n > 0 && (size_t)n < sizeof(reason) - 2) {
		va_list ap;

		reason[n++] = ':';
		reason[n++] = ' ';
		va_start(ap, fmt);
		vreason(reason + n, sizeof(reason) - n, fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "%s\n", reason);
	leave(IGT_EXIT_FAILURE, reason);
}

static __attribute__((format(printf, 2, 0)))
void vlog(FILE *f, const char *fmt, va_list ap)
{
	vfprintf(f, fmt, ap);
	fflush(f);
}

void igt_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(stdout, fmt, ap);
	va_end(ap);
}

void igt_debug(const char *fmt, ...)
{
	va_list ap;

	if (!getenv("IGT_DEBUG"))
		return;
	va_start(ap, fmt);
	vlog(stdout, fmt, ap);
	va_end(ap);
}

void igt_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(stderr, fmt, ap);
	va_end(ap);
}

int igt_exit(void)
{
	if (igt_only_list_subtests())
		return IGT_EXIT_SUCCESS;
	if (run_pattern && !pattern_matched) {
		fprintf(stderr, "unknown subtest: %s\n", run_pattern);
		return IGT_EXIT_INVALID;
	}
	if (n_fail)
		return IGT_EXIT_FAILURE;
	if (!n_success)
		return IGT_EXIT_SKIP;
	return IGT_EXIT_SUCCESS;
}

int igt_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret;
}
