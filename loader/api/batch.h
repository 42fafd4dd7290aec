/* SPDX-License-Identifier: GPL-2.0-only */
/* Many requests in one commit (loader/api/batch.c). */
#ifndef XVNET_LOADER_API_BATCH_H
#define XVNET_LOADER_API_BATCH_H

#include <stdint.h>

struct xvd;

/* The client's connection ended: its open batch, if any, is forgotten. */
void batch_client_gone(struct xvd *d, uint64_t client);

#endif
