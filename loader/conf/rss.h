/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Virtual RSS settings (ethtool -x/-X style): key, indirection table, hash
 * fields.  Parsers write "FIELD: reason" into err and return -1.
 */
#ifndef XVNET_LOADER_CONF_RSS_H
#define XVNET_LOADER_CONF_RSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/conf/config.h"

/* Buffer sizes for the formatters. */
#define XV_RSS_KEY_STR  (XVNET_RSS_KEY_SIZE * 3)
#define XV_RSS_INDIR_STR (XVNET_RSS_INDIR_SIZE * 4 + 1)

int rss_parse_key(const char *field, const char *s, uint8_t key[XVNET_RSS_KEY_SIZE],
		  char *err, size_t errlen);
void rss_format_key(const uint8_t key[XVNET_RSS_KEY_SIZE], char *buf);
/* "0,1,2,3,..." with Q*N for N entries of Q; exactly 128 entries. */
int rss_parse_indir(const char *field, const char *s,
		    uint8_t indir[XVNET_RSS_INDIR_SIZE], char *err, size_t errlen);
void rss_format_indir(const uint8_t indir[XVNET_RSS_INDIR_SIZE], char *buf);
/* l3 | l4 | comma list of tcp, udp, tcp4, tcp6, udp4, udp6 */
int rss_parse_fields(const char *field, const char *s, uint16_t *out,
		     char *err, size_t errlen);
const char *rss_fields_name(uint16_t fields);
/* ethtool -X equal N / weight W0,W1,...; queues: the VM's queue count. */
int rss_indir_equal(uint8_t indir[XVNET_RSS_INDIR_SIZE], unsigned long n,
		    unsigned queues, char *err, size_t errlen);
int rss_indir_weight(uint8_t indir[XVNET_RSS_INDIR_SIZE], const char *s,
		     unsigned queues, char *err, size_t errlen);
int rss_check_indir(const uint8_t indir[XVNET_RSS_INDIR_SIZE], unsigned queues,
		    const char *field, char *err, size_t errlen);

#endif
