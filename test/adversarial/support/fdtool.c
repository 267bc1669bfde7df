/*
 * Test-only Node addon for the adversarial suite (NOT the product addon).
 * Gives a test process the fd and wait primitives Node has no API for.
 * Every function returns a negative errno (or an object with `errno`)
 * instead of throwing, so a test can assert on EBADF and the like.
 *
 *   dup2(src, dst)             -> dst | -errno   (the new fd has no FD_CLOEXEC)
 *   dupfd(fd, min, cloexec)    -> fd | -errno    (F_DUPFD / F_DUPFD_CLOEXEC)
 *   close(fd)                  -> 0 | -errno
 *   getfd(fd)                  -> FD_* flags | -errno
 *   setCloexec(fd, on)         -> 0 | -errno
 *   getfl(fd)                  -> O_* status flags | -errno
 *   setNonblock(fd, on)        -> 0 | -errno
 *   fstat(fd)                  -> { dev, ino } | -errno   (dev and ino as strings)
 *   pipe(cloexec)              -> [r, w] | -errno
 *   inotify(cloexec)           -> fd | -errno
 *   waitpid(pid, nohang)       -> { pid, status } | { errno }
 *   read1(fd)                  -> bytes read (0/1) | -errno   (one byte, to probe an fd)
 *   write(fd, string)          -> bytes written | -errno
 *   readAll(fd)                -> string (blocking read to EOF) | -errno
 *   setrlimit(res, soft, hard) -> 0 | -errno     (-1 means RLIM_INFINITY)
 *   getrlimit(res)             -> [soft, hard] | -errno
 *
 * Built by support/build.ts with the system's node_api.h.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int32_t arg_i32(napi_env env, napi_callback_info info, size_t idx, int32_t dflt)
{
    size_t argc = 4;
    napi_value argv[4];
    int32_t v = dflt;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    if (idx < argc) {
        napi_valuetype t;
        napi_typeof(env, argv[idx], &t);
        if (t == napi_boolean) {
            bool b;
            napi_get_value_bool(env, argv[idx], &b);
            v = b ? 1 : 0;
        } else if (t == napi_number) {
            napi_get_value_int32(env, argv[idx], &v);
        }
    }
    return v;
}

static napi_value num(napi_env env, double v)
{
    napi_value r;
    napi_create_double(env, v, &r);
    return r;
}

static napi_value ret(napi_env env, int rc)
{
    return num(env, rc < 0 ? -errno : rc);
}

static napi_value f_dup2(napi_env env, napi_callback_info info)
{
    return ret(env, dup2(arg_i32(env, info, 0, -1), arg_i32(env, info, 1, -1)));
}

static napi_value f_dupfd(napi_env env, napi_callback_info info)
{
    int cloexec = arg_i32(env, info, 2, 1);
    return ret(env, fcntl(arg_i32(env, info, 0, -1), cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, arg_i32(env, info, 1, 0)));
}

static napi_value f_close(napi_env env, napi_callback_info info)
{
    return ret(env, close(arg_i32(env, info, 0, -1)));
}

static napi_value f_getfd(napi_env env, napi_callback_info info)
{
    return ret(env, fcntl(arg_i32(env, info, 0, -1), F_GETFD));
}

static napi_value f_setcloexec(napi_env env, napi_callback_info info)
{
    int fd = arg_i32(env, info, 0, -1);
    int on = arg_i32(env, info, 1, 1);
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0)
        return ret(env, -1);
    return ret(env, fcntl(fd, F_SETFD, on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC)));
}

static napi_value f_getfl(napi_env env, napi_callback_info info)
{
    return ret(env, fcntl(arg_i32(env, info, 0, -1), F_GETFL));
}

static napi_value f_setnonblock(napi_env env, napi_callback_info info)
{
    int fd = arg_i32(env, info, 0, -1);
    int on = arg_i32(env, info, 1, 1);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return ret(env, -1);
    return ret(env, fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)));
}

static napi_value f_fstat(napi_env env, napi_callback_info info)
{
    struct stat st;
    if (fstat(arg_i32(env, info, 0, -1), &st) < 0)
        return num(env, -errno);
    char buf[32];
    napi_value o, v;
    napi_create_object(env, &o);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st.st_dev);
    napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "dev", v);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st.st_ino);
    napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "ino", v);
    return o;
}

static napi_value f_pipe(napi_env env, napi_callback_info info)
{
    int fds[2];
    int cloexec = arg_i32(env, info, 0, 1);
    if (pipe2(fds, cloexec ? O_CLOEXEC : 0) < 0)
        return num(env, -errno);
    napi_value a;
    napi_create_array_with_length(env, 2, &a);
    napi_set_element(env, a, 0, num(env, fds[0]));
    napi_set_element(env, a, 1, num(env, fds[1]));
    return a;
}

static napi_value f_inotify(napi_env env, napi_callback_info info)
{
    int cloexec = arg_i32(env, info, 0, 1);
    return ret(env, inotify_init1(cloexec ? IN_CLOEXEC : 0));
}

static napi_value f_waitpid(napi_env env, napi_callback_info info)
{
    int status = 0;
    pid_t r = waitpid(arg_i32(env, info, 0, -1), &status, arg_i32(env, info, 1, 1) ? WNOHANG : 0);
    napi_value o;
    napi_create_object(env, &o);
    if (r < 0) {
        napi_set_named_property(env, o, "errno", num(env, errno));
    } else {
        napi_set_named_property(env, o, "pid", num(env, r));
        napi_set_named_property(env, o, "status", num(env, status));
    }
    return o;
}

static napi_value f_read1(napi_env env, napi_callback_info info)
{
    char c;
    return ret(env, (int)read(arg_i32(env, info, 0, -1), &c, 1));
}

static napi_value f_write(napi_env env, napi_callback_info info)
{
    size_t argc = 2, len = 0;
    napi_value argv[2];
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    int32_t fd = -1;
    napi_get_value_int32(env, argv[0], &fd);
    napi_get_value_string_utf8(env, argv[1], NULL, 0, &len);
    char *buf = malloc(len + 1);
    napi_get_value_string_utf8(env, argv[1], buf, len + 1, &len);
    ssize_t n = write(fd, buf, len);
    int e = errno;
    free(buf);
    return num(env, n < 0 ? -e : (double)n);
}

static napi_value f_readall(napi_env env, napi_callback_info info)
{
    int fd = arg_i32(env, info, 0, -1);
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return num(env, -e);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    napi_value s;
    napi_create_string_latin1(env, buf, len, &s);
    free(buf);
    return s;
}

static napi_value f_setrlimit(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3];
    double soft = -1, hard = -1;
    int32_t res = -1;
    napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
    napi_get_value_int32(env, argv[0], &res);
    napi_get_value_double(env, argv[1], &soft);
    napi_get_value_double(env, argv[2], &hard);
    struct rlimit rl = { soft < 0 ? RLIM_INFINITY : (rlim_t)soft, hard < 0 ? RLIM_INFINITY : (rlim_t)hard };
    return ret(env, setrlimit(res, &rl));
}

static napi_value f_getrlimit(napi_env env, napi_callback_info info)
{
    struct rlimit rl;
    if (getrlimit(arg_i32(env, info, 0, -1), &rl) < 0)
        return num(env, -errno);
    napi_value a;
    napi_create_array_with_length(env, 2, &a);
    napi_set_element(env, a, 0, num(env, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur));
    napi_set_element(env, a, 1, num(env, rl.rlim_max == RLIM_INFINITY ? -1 : (double)rl.rlim_max));
    return a;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        { "dup2", NULL, f_dup2, NULL, NULL, NULL, napi_enumerable, NULL },
        { "dupfd", NULL, f_dupfd, NULL, NULL, NULL, napi_enumerable, NULL },
        { "close", NULL, f_close, NULL, NULL, NULL, napi_enumerable, NULL },
        { "getfd", NULL, f_getfd, NULL, NULL, NULL, napi_enumerable, NULL },
        { "setCloexec", NULL, f_setcloexec, NULL, NULL, NULL, napi_enumerable, NULL },
        { "getfl", NULL, f_getfl, NULL, NULL, NULL, napi_enumerable, NULL },
        { "setNonblock", NULL, f_setnonblock, NULL, NULL, NULL, napi_enumerable, NULL },
        { "fstat", NULL, f_fstat, NULL, NULL, NULL, napi_enumerable, NULL },
        { "pipe", NULL, f_pipe, NULL, NULL, NULL, napi_enumerable, NULL },
        { "inotify", NULL, f_inotify, NULL, NULL, NULL, napi_enumerable, NULL },
        { "waitpid", NULL, f_waitpid, NULL, NULL, NULL, napi_enumerable, NULL },
        { "read1", NULL, f_read1, NULL, NULL, NULL, napi_enumerable, NULL },
        { "write", NULL, f_write, NULL, NULL, NULL, napi_enumerable, NULL },
        { "readAll", NULL, f_readall, NULL, NULL, NULL, napi_enumerable, NULL },
        { "setrlimit", NULL, f_setrlimit, NULL, NULL, NULL, napi_enumerable, NULL },
        { "getrlimit", NULL, f_getrlimit, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
