// lib/core/idle.hpp — an idle worker: how it spins, how it sleeps, and how others wake it. Every
// rule about idleness is in this file and idle.cpp.
//
// States of a worker, one flag each:
//   running    it runs batches or steals (no flag);
//   spinning   it watches its queues, polls its reactor and retries steals for up to `idle_spin`
//              (50 us): the first 4 us with `pause`, any idle worker; the rest with sched_yield,
//              every worker that polls a reactor and at most `max_spinning` others at once (half
//              the workers, at least one), counted in runtime_impl::spinning. Spin time is
//              counted (core_stats::spin_cycles).
//   sleeping   `core::sleeping`, set under the core lock just before it blocks in the kernel (the
//              parker's eventfd, or epoll_wait when its core polls a reactor). Whoever leaves work
//              on a sleeping core claims the wake under that lock (core::claim_wake), clearing the
//              flag, and writes the eventfd once after unlocking; a wake-a-thief scan reads the
//              flag without the lock to skip cores that are awake.
//
// Why spin at all: a post to a sleeping core costs the poster an eventfd write and the sleeper a
// return from the kernel, a few microseconds of CPU on these VMs, where a spin that is answered
// within microseconds costs less. The first microseconds spin with `pause`, which catches a
// cross-core hand-off at once; the rest yield, which returns at once when nothing else wants the
// CPU but lets any other runnable thread run first (a load generator on the same cores).
// Why a cap, as Go bounds its spinning threads and Tokio its searching workers: with many idle
// workers, each yielding for 50 us takes CPU and scheduler work from whatever else runs; only the
// short `pause` part is open to every worker, since capping it too made a ping-pong's waiting side
// sleep (it parks while its peer, just handed the work, still counts as spinning: a hop then cost
// a wake-up, 7 us instead of 1).
// Measured and not kept: a per-worker window that halved after a spin that found nothing and grew
// back when work came soon (the spin-then-block rule). With the cap it cost SWS 4% more CPU per
// request under wrk -c100 (13.0 against 12.6 us, medians of 5 interleaved runs); a likely reading,
// not checked: a worker that had given up spinning paid a wake-up for the requests that followed.
#pragma once

#include "runtime_impl.hpp"

namespace hue::internal {

// The spin: watches this core's queues for up to `idle_spin`, polling the reactor (`poller`) and
// calling `steal` every few microseconds. True when work arrived (here, or by a steal) or the
// runtime stops. A worker over the spinner cap stops after the `pause` part.
bool spin_for_work(runtime_impl& rt, core& me, idle_poller* poller, bool (*steal)(void*), void* arg);

// After the spin: sleeps unless work arrived meanwhile.
void sleep_until_woken(runtime_impl& rt, core& me, idle_poller* poller);

// After a post made `busy` worth stealing from: wakes one sleeping worker to come and steal.
void wake_thief(runtime_impl& rt, const core& busy) noexcept;

// Stop: every worker, asleep or not, returns from its park.
void wake_all(runtime_impl& rt) noexcept;

}  // namespace hue::internal
