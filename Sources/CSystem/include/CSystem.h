#ifndef PICKUPBOX_CSYSTEM_H
#define PICKUPBOX_CSYSTEM_H
// Linux system calls that Glibc's Swift overlay does not expose (epoll, eventfd, accept4)
// and the few constants Swift imports awkwardly. Typed, non-variadic wrappers only.
// No _GNU_SOURCE here: it would change glibc's type definitions against the Glibc module.
// accept4 needs it, so it lives in CSystem.c.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdint.h>

int csystem_accept4_addr(int fd, struct sockaddr_storage *addr, socklen_t *len, int flags);
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
