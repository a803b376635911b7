// accept4 is a GNU extension; define _GNU_SOURCE only in this translation unit.
#define _GNU_SOURCE
#include <sys/socket.h>
#include <spawn.h>
#include "CSystem.h"

int csystem_accept4_addr(int fd, struct sockaddr_storage *addr, socklen_t *len, int flags) {
    return accept4(fd, (struct sockaddr *)addr, len, flags);
}

// posix_spawn_file_actions_addclosefrom_np is a GNU extension too (glibc 2.34).
int csystem_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
