// lib/core/idle.hpp — an idle worker: how it spins, how it sleeps, and how others wake it. Every
// rule about idleness is in this file and idle.cpp.
//
// States of a worker, one flag each:
//   running    it runs batches or steals (no flag);
//   spinning   it watches its queues, polls its reactor and retries steals for a short window;
//              counted in runtime_impl::spinning, at most `max_spinning` at once;
//   sleeping   `core::sleeping`, set under the core lock just before it blocks in the kernel (the
//              parker's eventfd, or epoll_wait when its core polls a reactor). Whoever leaves work
//              on a sleeping core claims the wake under that lock (core::claim_wake), clearing the
//              flag, and writes the eventfd once after unlocking; a wake-a-thief scan reads the
//              flag without the lock to skip cores that are awake.
//
// Why spin at all: a post to a sleeping core costs the poster an eventfd write and the sleeper a
// return from the kernel, a few microseconds of CPU on these VMs. Spinning costs CPU for as long
// as it lasts. So, as in the classic spin-then-block rule (spin about as long as a block and wake
// would cost), a worker's window shrinks each time it spins in vain and grows back when work
// arrives while it spins: a server whose requests arrive spread out stops spinning, a ping-pong
// or a fork/join keeps spinning. And, as Go's scheduler bounds its spinning threads and Tokio its
// searching workers, at most half the workers (at least one) spin at once: the others go straight
// to sleep, leaving their CPU to whatever else the machine runs (a load generator beside a
// server).
#pragma once

#include "runtime_impl.hpp"

namespace hue::internal {

// The spin: watches this core's queues for the worker's current window, polling the reactor
// (`poller`) and calling `steal` every few microseconds. True when work arrived (here, or by a
// steal) or the runtime stops. A worker over the spinner cap looks once and returns.
bool spin_for_work(runtime_impl& rt, core& me, idle_poller* poller, bool (*steal)(void*), void* arg);

// After the spin: sleeps unless work arrived meanwhile.
void sleep_until_woken(runtime_impl& rt, core& me, idle_poller* poller);

// After a post made `busy` worth stealing from: wakes one sleeping worker to come and steal.
void wake_thief(runtime_impl& rt, const core& busy) noexcept;

// Stop: every worker, asleep or not, returns from its park.
void wake_all(runtime_impl& rt) noexcept;

}  // namespace hue::internal
