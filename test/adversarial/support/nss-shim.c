/*
 * LD_PRELOAD shim for the supplementary-groups tests: a user database that changes while the
 * parent reads it, and one whose records need a large buffer. Test-only, never the product.
 *
 *   VC_SHIM_GROUPS=A,B   getgrouplist() reports A groups on its first call and B on every later
 *                        one (the list grew in between: an NSS cache refresh, a groupadd). The
 *                        groups are the primary one, then 20001, 20002, ... (never 0).
 *   VC_SHIM_PW_MIN=N     getpwuid_r() fails with ERANGE when its buffer is smaller than N bytes
 *                        (a record with a huge gecos field, an NSS backend's big entry); with a
 *                        big enough buffer, the real one answers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

static int calls;

int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
    (void)user;
    int first = 70, later = 80;
    const char *spec = getenv("VC_SHIM_GROUPS");
    if (spec != NULL) sscanf(spec, "%d,%d", &first, &later);
    int total = calls++ == 0 ? first : later;
    int room = *ngroups;
    for (int i = 0; i < total && i < room; i++) groups[i] = i == 0 ? group : (gid_t)(20000 + i);
    *ngroups = total;
    return room >= total ? total : -1;
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **result)
{
    const char *min = getenv("VC_SHIM_PW_MIN");
    if (min != NULL && len < strtoul(min, NULL, 10)) {
        *result = NULL;
        return ERANGE;
    }
    int (*real)(uid_t, struct passwd *, char *, size_t, struct passwd **) =
        (int (*)(uid_t, struct passwd *, char *, size_t, struct passwd **))dlsym(RTLD_NEXT, "getpwuid_r");
    if (real == NULL) {
        *result = NULL;
        return ENOSYS;
    }
    return real(uid, pw, buf, len, result);
}
