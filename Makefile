# SPDX-License-Identifier: GPL-2.0
#
# gntdev-dmabuf top-level Makefile.
#
#   make                 build the module against the running kernel
#   make KDIR=...        ... or against another kernel tree
#   make demo            boot Xen in QEMU and show a buffer crossing domains
#   make check           the whole test matrix (TARGETS=..., TEST=...)
#   make check-debug     the suite on debug kernels (lockdep, kmemleak, ...; KASAN on arm64)
#   make check-upstream  the suite on kernels with the in-tree gntdev dma-buf (comparison.rst)
#   make bench           the benchmark: export against the alternatives
#   make bench-upstream  the same measures, ours against the in-tree gntdev, one boot per target
#   make userspace       libgntdmabuf and the gntdmabuf tool (userspace/Makefile)
#   make uapi-doc        regenerate Documentation/uapi.rst's reference from the uAPI header
#   make install         install the module and the userspace

KDIR ?= /lib/modules/$(shell uname -r)/build
MDIR := $(CURDIR)/drivers/xen/gntdev-dmabuf
PROBED := $(MDIR)/gdmabuf-compat-probed.h
KBUILD_ARGS := $(if $(ARCH),ARCH=$(ARCH)) $(if $(CROSS_COMPILE),CROSS_COMPILE=$(CROSS_COMPILE))
KBUILD_CHECKS := $(if $(W),W=$(W)) $(if $(C),C=$(C))

# In-guest test programs (static, so that a busybox domU can run them).
CC_TESTS ?= $(CROSS_COMPILE)gcc
TESTS_OUT ?= $(CURDIR)/build/tests
# -Wno-clobbered as in IGT: subtests are setjmp() blocks by design.
TEST_CFLAGS := -O2 -g -Wall -Wextra -Werror -Wno-clobbered -static -D_GNU_SOURCE -Iuapi -Itests/igt -Itests/lib -Iuserspace/lib -I/usr/include/libdrm
IGT_SRCS := $(wildcard tests/igt/*.c)
IGT_LIB := tests/igt/lib/igt_core.c tests/igt/lib/gdmabuf_test.c tests/igt/lib/xs.c tests/igt/lib/abi_check.c \
	userspace/lib/gntdmabuf.c
IGT_BINS := $(patsubst tests/igt/%.c,$(TESTS_OUT)/%,$(IGT_SRCS))
GUEST_BINS := $(TESTS_OUT)/gdmabuf-domu-agent $(TESTS_OUT)/gdmabuf-demo $(TESTS_OUT)/gntdmabuf \
	$(TESTS_OUT)/fb-share $(TESTS_OUT)/readme-example $(TESTS_OUT)/gdmabuf-bench $(TESTS_OUT)/gdmabuf-kms \
	$(TESTS_OUT)/gdmabuf-runner
# The display backend needs Xen's libraries: XEN_DEV is an unpacked
# libxen-dev of the target's architecture and release (tests/lib/vm.sh).
ifneq ($(XEN_DEV),)
GUEST_BINS += $(TESTS_OUT)/gntdmabuf-displ $(TESTS_OUT)/gdmabuf-displ-front \
	$(TESTS_OUT)/libgntdmabuf-compat.so $(TESTS_OUT)/xengnttab-dmabuf-user
XEN_LIBDIR := $(firstword $(wildcard $(XEN_DEV)/usr/lib/*-linux-gnu))
# ... with the release's libwayland-dev, wayland-protocols and scanner.
WL_SCANNER := $(XEN_DEV)/usr/bin/wayland-scanner
WL_PROTOCOLS := $(XEN_DEV)/usr/share/wayland-protocols
WL_OUT := $(TESTS_OUT)/wayland
include userspace/displ/wayland.mk
endif
DISPL_SRCS := $(wildcard userspace/displ/*.c)

.PHONY: all module probe userspace tests check check-debug check-upstream bench bench-upstream demo uapi-doc lint install uninstall clean FORCE

all: module userspace

userspace:
	$(MAKE) -C userspace

probe: FORCE
	@scripts/kernel-probe.sh $(KDIR) $(PROBED) $(KBUILD_ARGS)

module: probe
	$(MAKE) -C $(KDIR) M=$(MDIR) $(KBUILD_ARGS) $(KBUILD_CHECKS) \
		GDMABUF_SELFTEST=$(GDMABUF_SELFTEST) modules

tests: $(IGT_BINS) $(GUEST_BINS)

$(TESTS_OUT)/%: tests/igt/%.c $(IGT_LIB) $(wildcard tests/igt/lib/*.h) uapi/gntdev-dmabuf.h userspace/lib/gntdmabuf.h
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(TEST_CFLAGS) -Itests/igt/lib -o $@ $< $(IGT_LIB) -lpthread

$(TESTS_OUT)/%: tests/guest/%.c $(IGT_LIB) $(wildcard tests/igt/lib/*.h) uapi/gntdev-dmabuf.h
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(TEST_CFLAGS) -Itests/igt/lib -o $@ $< $(IGT_LIB) -lpthread

# The tool and the examples (the README's too), static for the test guests.
$(TESTS_OUT)/readme-example: README.md userspace/lib/gntdmabuf.c userspace/lib/gntdmabuf.h
	@mkdir -p $(TESTS_OUT)
	awk '/^```c/{f=1;next}/^```/{f=0}f' README.md > $@.c
	$(CC_TESTS) $(TEST_CFLAGS) -o $@ $@.c userspace/lib/gntdmabuf.c

$(TESTS_OUT)/fb-share: userspace/examples/fb-share.c userspace/lib/gntdmabuf.c userspace/lib/gntdmabuf.h
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(TEST_CFLAGS) -o $@ userspace/examples/fb-share.c userspace/lib/gntdmabuf.c

# Dynamic, against the release's Xen libraries, which every dom0 has (see
# gd_xen_dev in tests/lib/common.sh for why not static).
$(TESTS_OUT)/gntdmabuf-displ: $(DISPL_SRCS) $(wildcard userspace/displ/*.h) userspace/lib/gntdmabuf.c userspace/lib/gntdmabuf.h \
		$(WL_HDRS) $(WL_SRCS)
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(filter-out -static,$(TEST_CFLAGS)) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		-DGDMABUF_VERSION='"$(shell cat VERSION)"' -I$(XEN_DEV)/usr/include -I$(WL_OUT) -o $@ \
		$(DISPL_SRCS) $(WL_SRCS) userspace/lib/gntdmabuf.c -L$(XEN_LIBDIR) -Wl,-rpath-link=$(XEN_LIBDIR) \
		-lxenstore -lxenevtchn -lxengnttab -lxentoollog -lwayland-client

$(TESTS_OUT)/libgntdmabuf-compat.so: userspace/compat/gntdmabuf-compat.c uapi/gntdev-dmabuf.h
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(filter-out -static,$(TEST_CFLAGS)) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
		-fPIC -shared -fvisibility=hidden -Wl,-z,defs -I$(XEN_DEV)/usr/include -o $@ $<

# Built like a program of Debian's: libxen-dev's and libdrm-dev's headers, nothing of ours.
$(TESTS_OUT)/xengnttab-dmabuf-user: tests/guest/xengnttab-dmabuf-user.c
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) -O2 -g -Wall -Wextra -Werror -I$(XEN_DEV)/usr/include -I/usr/include/libdrm -o $@ $< \
		-L$(XEN_LIBDIR) -Wl,-rpath-link=$(XEN_LIBDIR) -lxengnttab

$(TESTS_OUT)/gdmabuf-displ-front: tests/guest/gdmabuf-displ-front.c $(IGT_LIB) $(wildcard tests/igt/lib/*.h)
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(TEST_CFLAGS) -Itests/igt/lib -idirafter $(XEN_DEV)/usr/include -o $@ $< $(IGT_LIB) -lpthread

$(TESTS_OUT)/gntdmabuf: userspace/tools/gntdmabuf.c userspace/lib/gntdmabuf.c userspace/lib/gntdmabuf.h
	@mkdir -p $(TESTS_OUT)
	$(CC_TESTS) $(TEST_CFLAGS) -o $@ userspace/tools/gntdmabuf.c userspace/lib/gntdmabuf.c

check:
	tests/check.sh $(if $(TARGETS),--targets "$(TARGETS)") $(if $(TEST),--test "$(TEST)")

check-debug:
	tests/check.sh --debug $(if $(TARGETS),--targets "$(TARGETS)") $(if $(TEST),--test "$(TEST)")

check-upstream:
	tests/check.sh --upstream $(if $(TARGETS),--targets "$(TARGETS)") $(if $(TEST),--test "$(TEST)")

bench:
	tests/bench.sh $(if $(TARGETS),--targets "$(TARGETS)") $(if $(TEST),--test "$(TEST)")

bench-upstream:
	tests/bench.sh --upstream $(if $(TARGETS),--targets "$(TARGETS)") $(if $(TEST),--test "$(TEST)")

demo:
	tests/demo.sh

uapi-doc:
	scripts/kernel-doc.sh uapi

lint:
	tests/checkpatch.sh

# The kernel release the module was built for (KDIR's), for depmod.
# (Debian's 6.1 headers have the upstream version in kernel.release; the
# module directory is named after UTS_RELEASE.)
KREL = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(KDIR)/include/generated/utsrelease.h)

install: module userspace
	$(MAKE) -C $(KDIR) M=$(MDIR) $(KBUILD_ARGS) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KREL)
	$(MAKE) -C userspace install

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KREL)/updates/xen-gntdev-dmabuf.ko*
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KREL)
	$(MAKE) -C userspace uninstall

clean:
	rm -rf build
	[ ! -d userspace ] || $(MAKE) -C userspace clean
	rm -f $(PROBED)
	-$(MAKE) -C $(KDIR) M=$(MDIR) clean 2>/dev/null
