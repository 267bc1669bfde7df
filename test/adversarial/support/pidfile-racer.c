/*
 * Support of the pidfile race test (test-only): attacks a pidfile path while a daemon is being
 * started on it. Loop: open PATH (creating it), take the same 1-byte write
 * lock a pidfile holder takes; when that succeeds nobody holds the file, so
 * unlink it (while holding the lock, so the unlink can never hit a file a
 * daemon has locked) and start over. When the lock is refused, a daemon holds
 * the file at PATH: print "stopped N" and exit 0.
 *
 *   pidfile-racer PATH
 *
 * Prints "ready" after its first cycle. Pauses 50 us between cycles, so that
 * on a loaded machine the daemon still gets the file now and then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH\n", argv[0]);
        return 2;
    }
    long cycles = 0;
    for (;;) {
        int fd = open(argv[1], O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            continue;
        struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
        if (fcntl(fd, F_SETLK, &l) != 0) {
            int e = errno;
            close(fd);
            if (e == EAGAIN || e == EACCES) {
                printf("stopped %ld\n", cycles);
                return 0;
            }
            continue;
        }
        unlink(argv[1]);
        close(fd);
        if (cycles++ == 0) {
            printf("ready\n");
            fflush(stdout);
        }
        struct timespec pause = { 0, 50000 };
        nanosleep(&pause, NULL);
    }
}
