#ifndef PICKUPBOX_CSYSTEM_H
#define PICKUPBOX_CSYSTEM_H
// Linux system calls that Glibc's Swift overlay does not expose (epoll, eventfd, accept4, spawn's closefrom)
// and the few constants Swift imports awkwardly. Typed, non-variadic wrappers only.
// No _GNU_SOURCE here: it would change glibc's type definitions against the Glibc module.
// accept4 needs it, so it lives in CSystem.c.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <spawn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <malloc.h>

int csystem_accept4_addr(int fd, struct sockaddr_storage *addr, socklen_t *len, int flags);
/// A spawn file action that closes every descriptor from `from` up in the child.
int csystem_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);
static inline int csystem_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
static inline int csystem_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
static inline int csystem_epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    return epoll_wait(epfd, events, max, timeout);
}
static inline uint64_t csystem_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t csystem_epoll_event_events(const struct epoll_event *ev) { return ev->events; }
static inline int csystem_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
static inline int csystem_errno(void) { return errno; }

/// glibc malloc, for a long-running server whose requests come with bodies of up to a megabyte:
/// at most `arenas` arenas (glibc makes up to 8 per core, each keeping its own free memory), and every
/// allocation from `mmap_threshold` bytes up served by mmap, so that it goes back to the kernel when freed.
/// Setting the threshold also stops glibc from raising it after such a free (its default, which lets
/// megabyte buffers settle in the arenas for good). A variable the operator set (MALLOC_ARENA_MAX,
/// MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_) wins. Call before other threads start.
static inline void csystem_tune_malloc(int arenas, int mmap_threshold, int trim_threshold) {
    if (!getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, arenas);
    if (!getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    if (!getenv("MALLOC_TRIM_THRESHOLD_")) mallopt(M_TRIM_THRESHOLD, trim_threshold);
}

/// Returns free memory at the top of every arena's heap and whole free pages inside them to the kernel.
static inline void csystem_trim_malloc(void) { malloc_trim(0); }

static const uint32_t CSYSTEM_EPOLLIN = EPOLLIN;
static const uint32_t CSYSTEM_EPOLLOUT = EPOLLOUT;
static const uint32_t CSYSTEM_EPOLLERR = EPOLLERR;
static const uint32_t CSYSTEM_EPOLLHUP = EPOLLHUP;
static const uint32_t CSYSTEM_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CSYSTEM_EPOLLET = EPOLLET;
static const int CSYSTEM_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
static const int CSYSTEM_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
static const int CSYSTEM_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
static const int CSYSTEM_SOCK_NONBLOCK = SOCK_NONBLOCK;
static const int CSYSTEM_SOCK_CLOEXEC = SOCK_CLOEXEC;
static const int CSYSTEM_SOCK_STREAM = SOCK_STREAM;
static const int CSYSTEM_MSG_NOSIGNAL = MSG_NOSIGNAL;

#endif
