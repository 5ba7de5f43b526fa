/* steer.h: handover "steer": each generation listens on its own socket in
 * one SO_REUSEPORT group per address, and a classic BPF program picks the
 * socket new connections reach; at a reload's commit it turns to the new
 * generation, and the old one is told to drain once its accept queue is
 * empty. */
/* SPDX-License-Identifier: MIT */
#ifndef SEGUE_STEER_H
#define SEGUE_STEER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "model.h"

/* --- the pure part ------------------------------------------------------- */

/* The program that sends every new connection to the group's socket at
 * `index` (socket(7): an index out of range falls back to the hash).
 * Writes it to prog (room for STEER_PROGRAM_MAX) and returns its length. */
#define STEER_PROGRAM_MAX 4 /* room for either program */
size_t steer_program(unsigned index, struct sock_filter *prog);

/* The program that sends `percent` of new connections (0-100) to the
 * group's socket at new_index and the others to old_index: the random
 * ancillary value (32 bits) below percent/100 * 2^32 picks new_index.
 * Writes it to prog (room for STEER_PROGRAM_MAX) and returns its length. */
size_t steer_weighted_program(unsigned new_index, unsigned old_index, unsigned percent,
			      struct sock_filter *prog);

/* The group's order: index[i] is member i's place, -1 for none; the
 * members' places are 0 .. n-1. Member `leaving` leaves: as the kernel
 * does, the last place's member takes its place. Returns the member that
 * moved, or -1. */
int steer_group_leave(int *index, size_t n, size_t leaving);
/* How many members have a place. */
size_t steer_group_size(const int *index, size_t n);

/* --- with sockets -------------------------------------------------------- */

/* The socket s asks for steer and is of a kind that can be: TCP (bound
 * with SO_REUSEPORT) or systemd's. */
bool steer_wanted(const struct socket_conf *s);

/* A socket just held for its address (at start, or new in a config): it
 * starts the group when steer can work on it, else it warns once why not. */
void steer_adopt(struct held_socket *h, const struct socket_conf *s);

/* A reload's new generation wants the address s that is already held:
 * with steer, a new socket joins the group (connections stay with the
 * serving generation's socket until the commit) and is returned (refs 1).
 * NULL when the generation shares *shared (set to the serving generation's
 * socket there); a warning says why when steer was asked for. */
struct held_socket *steer_join(const struct socket_conf *s, struct held_socket **shared);

/* h is about to be closed: it leaves its group at once (shutdown), unless
 * `keep` (it stays in systemd's fd store), and the group's program is
 * aimed again at the serving generation's socket. */
void steer_leave(struct held_socket *h, bool keep);

/* The commit made model->serving the new generation: its sockets get the
 * new connections, and done(old) is called once old's sockets' accept
 * queues are empty plus a grace (at most their steer-quiesce). Returns
 * false, calling nothing, when no socket of old was steered away. */
bool steer_cutover(const struct generation *old, void (*done)(unsigned old_number));

/* New connections go to the serving generation's sockets again (a
 * rolled-back reload, before its generation stops). */
void steer_back(void);

/* steer_back for a failed reload's generation g: when g had a share of
 * new connections (a weighted canary), done(g) is called once its
 * sockets' accept queues are empty plus a grace (at most their
 * steer-quiesce), so that its workers accept what reached them before they
 * drain. Returns false, calling nothing, when g had no share. */
bool steer_back_from(const struct generation *g, void (*done)(unsigned number));
/* Ends steer_back_from's wait now, calling its done: an upgrade in place
 * would lose the wait's timer, and the generation would never drain. */
void steer_flush(void);

/* A reload's canary generation g is held with its workers ready: each
 * steered socket of g that a program with canary-weight listens on gets
 * that share of its address's new connections (the largest, if several),
 * the serving generation's socket the rest, until steer_cutover or
 * steer_back. `announce`: event steer_weighted for each (not when an
 * upgrade in place takes the held canary on: the program stayed attached,
 * it is attached again only for this image to know). True when one is. */
bool steer_weigh(const struct generation *g, bool announce);

/* The share of new connections h gets while a canary is weighted
 * (percent), or -1. */
int steer_weight_of(const struct held_socket *h);

/* Drops a cut-over under way without calling its done (segue stops). */
void steer_cancel(void);

/* The serving generation's socket at a, or NULL. */
struct held_socket *steer_serving(const struct address *a);

/* The newest generation that uses h (0: none), for status and metrics. */
unsigned steer_generation_of(const struct held_socket *h);

/* A listening TCP socket's accept queue (TCP_INFO); -1 with errno. */
int steer_accept_queue(int fd, unsigned *queued);

/* settle runs after a cut-over's end changed the model (core_settle). */
void steer_init(void (*settle)(void));

#endif
