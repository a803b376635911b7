// accept4 is a GNU extension; define _GNU_SOURCE only in this translation unit.
#define _GNU_SOURCE
#include <sys/socket.h>
#include "CSystem.h"

int csystem_accept4_addr(int fd, struct sockaddr_storage *addr, socklen_t *len, int flags) {
    return accept4(fd, (struct sockaddr *)addr, len, flags);
}
