#ifndef PICKUPBOX_CLIBPQ_SHIM_H
#define PICKUPBOX_CLIBPQ_SHIM_H
#include <postgresql/libpq-fe.h>
#endif
