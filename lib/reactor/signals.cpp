// lib/reactor/signals.cpp — one process, many reactors, one catcher per signal.
//
// libevent installs its signal handlers for one event_base at a time (adding a signal event to a
// second base while another holds some makes the first one deaf). So the hub keeps every signal
// event in the base of one reactor, the catcher, and its callback fans each signal out to all
// subscribers, each of which posts to its own runtime. The catcher is the first reactor to
// subscribe; when it closes, the hub moves the signal events to a reactor that still has
// subscribers.
//
// Locking: `mu` guards the table. The fan-out callback takes `mu`, so libevent calls that may wait
// for that callback (event_del/event_free of a signal event, from a thread other than the
// catcher's poller) are made after releasing `mu`.
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
  event* ev = nullptr;                          // in the catcher's base
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

void on_signal(evutil_socket_t signo, short, void*) {
  hub& h = the_hub();
  std::lock_guard l(h.mu);
  const auto it = h.table.find(static_cast<int>(signo));
  if (it == h.table.end()) return;
  for (registration_state* s : it->second.subscribers) s->ready(registration_state::tick);
}

event* new_signal_event(reactor_core* catcher, int signo) {
  event* ev = evsignal_new(catcher->base(), signo, on_signal, nullptr);
  if (!ev || evsignal_add(ev, nullptr) != 0) {
    if (ev) event_free(ev);
    throw std::runtime_error("hue: cannot catch signal " + std::to_string(signo));
  }
  return ev;
}

}  // namespace

void subscribe_signal(registration_state* s) {
  hub& h = the_hub();
  std::lock_guard l(h.mu);
  if (!h.catcher) {
    // The previous catcher closed with no live reactor to take over: this one catches from now
    // on, for the deaf subscribers left behind too.
    h.catcher = s->owner.get();
    for (auto& [signo, e] : h.table)
      if (!e.ev) e.ev = new_signal_event(h.catcher, signo);
  }
  signal_entry& e = h.table[s->signo];
  if (!e.ev) {
    try {
      e.ev = new_signal_event(h.catcher, s->signo);
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
  event* dead = nullptr;
  {
    std::lock_guard l(h.mu);
    const auto it = h.table.find(s->signo);
    if (it == h.table.end()) return;
    auto& subs = it->second.subscribers;
    const auto pos = std::find(subs.begin(), subs.end(), s);
    if (pos == subs.end()) return;
    subs.erase(pos);
    if (subs.empty()) {
      dead = it->second.ev;  // the signal's default disposition comes back when it is freed
      h.table.erase(it);
    }
  }
  if (dead) event_free(dead);
  s->unref();
}

void reactor_closing(reactor_core* r) noexcept {
  hub& h = the_hub();
  std::lock_guard l(h.mu);
  if (h.catcher != r) return;
  // Nothing polls r's base any more (its poller is detached), so no fan-out callback runs there
  // and its signal events can be removed while holding `mu`.
  h.catcher = nullptr;
  for (auto& [signo, e] : h.table) {
    event_free(e.ev);
    e.ev = nullptr;
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
        it->second.ev = new_signal_event(h.catcher, it->first);
        ++it;
        continue;
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "%s: its subscribers will not hear it\n", ex.what());
      }
    }
    // No live reactor is left to catch it: the subscribers stay registered but deaf.
    it->second.ev = nullptr;
    ++it;
  }
}

}  // namespace hue::internal
