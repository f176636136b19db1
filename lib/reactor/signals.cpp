// lib/reactor/signals.cpp — one process, many reactors, one catcher per signal.
//
// A signal has one disposition per process, and libevent installs its signal handlers for one
// event_base at a time (adding a signal event to a second base while another holds some makes the
// first one deaf). So the hub catches every signal in the backend of one reactor, the catcher
// (poll_backend::catch_signal), and the backend's poll fans each signal out to all subscribers,
// each of which posts to its own runtime. The catcher is the first reactor to subscribe; when it
// closes, the hub moves the signals to a reactor that still has subscribers.
//
// Locking: `mu` guards the table. The fan-out takes `mu`, so backend calls that may wait for it
// (libevent's event_free of a signal event, from a thread other than the catcher's poller) are
// made after releasing `mu`.
#include "reactor_core.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace hue::internal {

namespace {

struct signal_entry {
  void* caught = nullptr;                        // by the catcher's backend
  std::vector<registration_state*> subscribers;  // each holds a reference while listed
};

struct hub {
  std::mutex mu;
  reactor_core* catcher = nullptr;  // kept alive by its subscribers' `owner` references
  std::map<int, signal_entry> table;
};

hub& the_hub() {
  static hub* h = new hub;  // never destroyed: signals may arrive during static destruction
  return *h;
}

}  // namespace

void fan_out_signal(int signo) noexcept {
  hub& h = the_hub();
  std::lock_guard l(h.mu);
  const auto it = h.table.find(signo);
  if (it == h.table.end()) return;
  for (registration_state* s : it->second.subscribers) s->ready(registration_state::tick);
}

void subscribe_signal(registration_state* s) {
  hub& h = the_hub();
  std::lock_guard l(h.mu);
  if (!h.catcher) {
    // The previous catcher closed with no live reactor to take over: this one catches from now
    // on, for the deaf subscribers left behind too.
    h.catcher = s->owner.get();
    for (auto& [signo, e] : h.table)
      if (!e.caught) e.caught = h.catcher->backend().catch_signal(signo);
  }
  signal_entry& e = h.table[s->signo];
  if (!e.caught) {
    try {
      e.caught = h.catcher->backend().catch_signal(s->signo);
    } catch (...) {
      h.table.erase(s->signo);
      throw;
    }
  }
  s->ref();
  e.subscribers.push_back(s);
}

void unsubscribe_signal(registration_state* s) noexcept {
  hub& h = the_hub();
  void* dead = nullptr;
  std::shared_ptr<reactor_core> by;  // the catcher, kept until its backend let go of `dead`
  {
    std::lock_guard l(h.mu);
    const auto it = h.table.find(s->signo);
    if (it == h.table.end()) return;
    auto& subs = it->second.subscribers;
    const auto pos = std::find(subs.begin(), subs.end(), s);
    if (pos == subs.end()) return;
    subs.erase(pos);
    if (subs.empty()) {
      dead = it->second.caught;  // the signal's former disposition comes back when it is released
      if (dead) by = h.catcher->shared_from_this();  // alive: reactor_closing clears it first
      h.table.erase(it);
    }
  }
  if (dead) by->backend().release_signal(dead);
  s->unref();
}

void reactor_closing(reactor_core* r) noexcept {
  hub& h = the_hub();
  std::lock_guard l(h.mu);
  if (h.catcher != r) return;
  // Nothing polls r's backend any more (its poller is detached), so no fan-out runs there and
  // its signals can be released while holding `mu`.
  h.catcher = nullptr;
  for (auto& [signo, e] : h.table) {
    if (e.caught) r->backend().release_signal(e.caught);
    e.caught = nullptr;
  }
  for (auto& [signo, e] : h.table) {
    for (registration_state* s : e.subscribers) {
      if (!s->owner->closed()) {
        h.catcher = s->owner.get();
        break;
      }
    }
    if (h.catcher) break;
  }
  for (auto it = h.table.begin(); it != h.table.end();) {
    if (h.catcher) {
      try {
        it->second.caught = h.catcher->backend().catch_signal(it->first);
        ++it;
        continue;
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: its subscribers will not hear it\n", ex.what());
      }
    }
    // No live reactor is left to catch it: the subscribers stay registered but deaf.
    it->second.caught = nullptr;
    ++it;
  }
}

}  // namespace hue::internal
