/*
 * Support of the EINTR storm test (test-only): sends SIGNO to PID every INTERVAL_US microseconds
 * until its stdin reaches EOF or the target is gone, then prints "sent N".
 *
 *   sigstorm PID SIGNO INTERVAL_US
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PID SIGNO INTERVAL_US\n", argv[0]);
        return 2;
    }
    pid_t pid = (pid_t)atol(argv[1]);
    int sig = atoi(argv[2]);
    long us = atol(argv[3]);
    long sent = 0;
    char buf[64];
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        if (kill(pid, sig) != 0)
            break;
        sent++;
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            break;
        struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
        nanosleep(&ts, NULL);
    }
    printf("sent %ld\n", sent);
    return 0;
}
