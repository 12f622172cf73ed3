/* SPDX-License-Identifier: MIT */
/*
 * A small stand-in for the part of IGT's API (igt-gpu-tools, lib/igt_core.h)
 * that our tests use, written from IGT's documented behaviour.
 *
 * Why it exists: the tests under tests/igt/ are meant to be proposed to
 * igt-gpu-tools unchanged, but Debian packages IGT without its headers and
 * IGT's source cannot be fetched by the test bed, so the tests build
 * against this header instead.  A test written against it compiles against
 * real IGT as long as it sticks to this subset.
 *
 * Behaviour kept from IGT:
 * - "--list-subtests" prints one subtest name per line and runs nothing;
 *   "--run-subtest NAME" runs only NAME (a '*' glob is accepted); with no
 *   option every subtest runs; "--describe" prints the descriptions.
 * - Subtest names are lower-case ASCII letters, digits and '-'.
 * - Exit status: 0 when something passed and nothing failed, 77 when all
 *   subtests skipped, 98 when any failed, 79 for an unknown subtest name.
 * - igt_fixture blocks run unless only listing; igt_require() failing in a
 *   fixture skips every later subtest, a failed assertion fails them;
 *   inside an igt_subtest_group only the group's later subtests.
 * - IGT_TEST_DESCRIPTION() is printed first by "--describe".
 * - Each subtest logs "Starting subtest: NAME" and
 *   "Subtest NAME: SUCCESS|SKIP|FAIL (seconds)".
 */
#ifndef GDMABUF_IGT_H
#define GDMABUF_IGT_H

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern sigjmp_buf __igt_jmp;

void __igt_init(int argc, char **argv);
bool __igt_run_subtest(const char *name);
void __igt_subtest_success(void);
bool __igt_fixture(void);
void __igt_fixture_end(void);
int igt_exit(void);
const char *igt_subtest_name(void);
bool igt_only_list_subtests(void);
void igt_describe(const char *description);

__attribute__((noreturn, format(printf, 1, 2)))
void igt_skip(const char *fmt, ...);
__attribute__((noreturn))
void igt_fail(int exitcode);
__attribute__((noreturn, format(printf, 5, 6)))
void __igt_fail_assert(const char *file, int line, const char *func,
		       const char *cond, const char *fmt, ...);
__attribute__((noreturn))
void __igt_skip_check(const char *file, int line, const char *func,
		      const char *cond);

__attribute__((format(printf, 1, 2))) void igt_info(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void igt_debug(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void igt_warn(const char *fmt, ...);

#define IGT_EXIT_SUCCESS	0
#define IGT_EXIT_SKIP		77
#define IGT_EXIT_INVALID	79
#define IGT_EXIT_FAILURE	98

#define igt_main \
	static void __igt_main_body(void); \
	int main(int argc, char **argv) \
	{ \
		__igt_init(argc, argv); \
		__igt_main_body(); \
		return igt_exit(); \
	} \
	static void __igt_main_body(void)

#define igt_fixture \
	for (int __igt_once = 0; \
	     !__igt_once && __igt_fixture() && sigsetjmp(__igt_jmp, 1) == 0; \
	     __igt_once = 1, __igt_fixture_end())

#define igt_subtest(name) \
	for (; __igt_run_subtest((name)) && sigsetjmp(__igt_jmp, 1) == 0; \
	     __igt_subtest_success())

#define igt_subtest_f(fmt, ...) \
	for (char __igt_name[128]; \
	     snprintf(__igt_name, sizeof(__igt_name), fmt, __VA_ARGS__), \
	     __igt_run_subtest(__igt_name) && sigsetjmp(__igt_jmp, 1) == 0; \
	     __igt_subtest_success())

#define __igt_tokencat2(x, y) x ## y
#define igt_tokencat(x, y) __igt_tokencat2(x, y)
#define igt_unique(prefix) igt_tokencat(igt_tokencat(__igt_unique__, prefix), __LINE__)

void __igt_subtest_group_save(int *saved);
void __igt_subtest_group_restore(int saved);

/*
 * A block of fixtures and subtests whose fixtures' skips and failures end
 * with the block: the subtests after it run as if it had not been there.
 */
#define igt_subtest_group \
	for (int igt_unique(__once) = 0, igt_unique(__save) = 0; \
	     !igt_unique(__once) && \
	     (__igt_subtest_group_save(&igt_unique(__save)), true); \
	     igt_unique(__once) = 1, __igt_subtest_group_restore(igt_unique(__save)))

/* The binary's description, for "--describe" (IGT: "--help-description"). */
extern const char *__igt_test_description __attribute__((weak));
#define IGT_TEST_DESCRIPTION(str) const char *__igt_test_description = str

#define igt_assert(expr) \
	do { if (!(expr)) \
		__igt_fail_assert(__FILE__, __LINE__, __func__, #expr, NULL); \
	} while (0)

#define igt_assert_f(expr, ...) \
	do { if (!(expr)) \
		__igt_fail_assert(__FILE__, __LINE__, __func__, #expr, __VA_ARGS__); \
	} while (0)

/*
 * IGT's igt_assert_eq/neq/lt/lte compare as int, and its _u32 variants as
 * uint32_t: a wider operand would be truncated silently under IGT, so here
 * it is a build error that asks for the _s64/_u64 variant.  "+ 0" promotes
 * bit-fields and small types, which are fine.
 */
#define __igt_fits(x, T) \
	_Static_assert(sizeof((x) + 0) <= sizeof(T), \
		       "operand " #x " is wider than " #T ": use igt_assert_*_s64 or _u64")

#define __igt_assert_cmp(T, fmt, a, op, nop, b) \
	do { T __n1 = (a), __n2 = (b); \
		if (!(__n1 op __n2)) \
			__igt_fail_assert(__FILE__, __LINE__, __func__, \
					  #a " " #op " " #b, \
					  "error: " fmt " " #nop " " fmt "\n", __n1, __n2); \
	} while (0)

#define igt_assert_cmpint(a, op, nop, b) \
	do { __igt_fits(a, int); __igt_fits(b, int); \
		__igt_assert_cmp(int, "%d", a, op, nop, b); \
	} while (0)
#define igt_assert_cmpuint(a, op, nop, b) \
	do { __igt_fits(a, uint32_t); __igt_fits(b, uint32_t); \
		__igt_assert_cmp(uint32_t, "%#x", a, op, nop, b); \
	} while (0)
#define igt_assert_cmps64(a, op, nop, b) \
	__igt_assert_cmp(long long, "%lld", a, op, nop, b)
#define igt_assert_cmpu64(a, op, nop, b) \
	__igt_assert_cmp(unsigned long long, "%#llx", a, op, nop, b)

#define igt_assert_eq(a, b)		igt_assert_cmpint(a, ==, !=, b)
#define igt_assert_neq(a, b)		igt_assert_cmpint(a, !=, ==, b)
#define igt_assert_lt(a, b)		igt_assert_cmpint(a, <, >=, b)
#define igt_assert_lte(a, b)		igt_assert_cmpint(a, <=, >, b)
#define igt_assert_eq_u32(a, b)		igt_assert_cmpuint(a, ==, !=, b)
#define igt_assert_neq_u32(a, b)	igt_assert_cmpuint(a, !=, ==, b)
#define igt_assert_eq_s64(a, b)		igt_assert_cmps64(a, ==, !=, b)
#define igt_assert_lt_s64(a, b)		igt_assert_cmps64(a, <, >=, b)
#define igt_assert_lte_s64(a, b)	igt_assert_cmps64(a, <=, >, b)
#define igt_assert_eq_u64(a, b)		igt_assert_cmpu64(a, ==, !=, b)
#define igt_assert_neq_u64(a, b)	igt_assert_cmpu64(a, !=, ==, b)
#define igt_assert_lt_u64(a, b)		igt_assert_cmpu64(a, <, >=, b)
#define igt_assert_lte_u64(a, b)	igt_assert_cmpu64(a, <=, >, b)

#define igt_require(expr) \
	do { if (!(expr)) \
		__igt_skip_check(__FILE__, __LINE__, __func__, #expr); \
	} while (0)

#define igt_require_f(expr, ...) \
	do { if (!(expr)) igt_skip(__VA_ARGS__); } while (0)

/* IGT's do_ioctl(): the ioctl must succeed. */
#define do_ioctl(fd, req, arg) \
	igt_assert_eq(igt_ioctl((fd), (req), (arg)), 0)

/* IGT's do_ioctl_err(): the ioctl must fail with errno @err. */
#define do_ioctl_err(fd, req, arg, err) \
	do { \
		int __ret = igt_ioctl((fd), (req), (arg)); \
		int __errno = __ret ? errno : 0; \
		igt_assert_f(__ret == -1 && __errno == (err), \
			     "ioctl returned %d, errno %d (%s), expected errno %d (%s)\n", \
			     __ret, __errno, strerror(__errno), (err), strerror(err)); \
	} while (0)

/* Like IGT's drmIoctl wrapper: restarts on EINTR and EAGAIN. */
int igt_ioctl(int fd, unsigned long request, void *arg);

#endif /* GDMABUF_IGT_H */
