/*
 * LD_PRELOAD shim used by the benchmark for crun only (bench/README.md).
 *
 * crun 1.8 raises RLIMIT_MEMLOCK to infinity before it loads the cgroup v2
 * device eBPF program and aborts when that fails. The development and CI
 * machines run as root without CAP_SYS_RESOURCE, so the raise fails with
 * EPERM and crun cannot start any container. Kernels >= 5.11 charge eBPF
 * memory to the memory cgroup instead of RLIMIT_MEMLOCK, so the raise is not
 * needed; later crun releases ignore the failure themselves. This shim does
 * the same: a setrlimit(RLIMIT_MEMLOCK) that fails with EPERM reports success.
 * Every other call is passed through untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/resource.h>

typedef int (*setrlimit_fn)(__rlimit_resource_t, const struct rlimit *);

int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim) {
  static setrlimit_fn real;
  if (real == 0) real = (setrlimit_fn)dlsym(RTLD_NEXT, "setrlimit");
  int r = real(resource, rlim);
  if (r < 0 && errno == EPERM && resource == RLIMIT_MEMLOCK) {
    errno = 0;
    return 0;
  }
  return r;
}
