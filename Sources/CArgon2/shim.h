#ifndef PICKUPBOX_CARGON2_SHIM_H
#define PICKUPBOX_CARGON2_SHIM_H
#include <argon2.h>
#endif
