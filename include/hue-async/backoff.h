// backoff.h — tmoq: retransmission with exponential backoff, libasync's interface.
//
//   struct req { tmoq_entry<req> tlink; void xmit (int tries); void timeout (); };
//   tmoq<req, &req::tlink> q;      // first retry after 2 s, doubling, 5 sends in all
//   q.start (r);                   // r->xmit (0) now, r->xmit (1) 2 s later, ... r->timeout ()
//   q.remove (r);                  // the answer came: stop
//
// T::xmit (u_int n) is called for send n (0 first); after `maxsend` sends with no remove(),
// T::timeout () is called once (the entry is out of the queue by then: timeout may delete it).
// keeptrying (p) after a timeout sends again at the longest interval.
//
// Layout: one FIFO per send number. Every entry in queue n was (re)sent with the same delay
// `minto << n`, so FIFO order is deadline order and one timer per queue (for its head) suffices.
// The queues are intrusive doubly-linked lists through tmoq_entry: O(1) start/remove, no allocation.
// Single-color: a tmoq and its entries belong to the loop (or to one color), like libasync's.
#ifndef _BACKOFF_H_
#define _BACKOFF_H_ 1

#include "async.h"

template<class T, class E> class tmoq_list;

template<class T>
class tmoq_entry {
public:
  u_int qno = u_int (-1);  // queue (= sends so far - 1); >= maxsend: not queued
  time_t tm = 0;           // deadline of the current send
  T *next = nullptr;
  T *prev = nullptr;
  tmoq_entry () {}
};

template<class T, tmoq_entry<T> T::*field, u_int minto = 2, u_int maxsend = 5>
class tmoq {
  static_assert (maxsend > 0, "tmoq: at least one send");
  struct fifo {
    T *head = nullptr;
    T *tail = nullptr;
    timecb_t *tmo = nullptr;
  };
  fifo q_[maxsend];

  static tmoq_entry<T> &E (T *p) { return p->*field; }

  void unlink (T *p)
  {
    fifo &f = q_[E (p).qno];
    (E (p).prev ? E (E (p).prev).next : f.head) = E (p).next;
    (E (p).next ? E (E (p).next).prev : f.tail) = E (p).prev;
    E (p).next = E (p).prev = nullptr;
  }
  void arm (u_int qn)
  {
    fifo &f = q_[qn];
    if (!f.tmo && f.head)
      f.tmo = timecb (E (f.head).tm, wrap (this, &tmoq::expire, qn));
  }
  void expire (u_int qn)
  {
    q_[qn].tmo = nullptr;
    time_t now = sfs_get_timenow (true);
    T *p;
    while ((p = q_[qn].head) && E (p).tm <= now) {
      unlink (p);
      if (qn + 1 < maxsend)
        enqueue (p, qn + 1, now);
      else {
        E (p).qno = maxsend;
        p->timeout ();
      }
    }
    arm (qn);
  }
  void enqueue (T *p, u_int qn, time_t now)
  {
    tmoq_entry<T> &e = E (p);
    e.qno = qn;
    e.tm = now + (time_t (minto) << qn);
    e.next = nullptr;
    fifo &f = q_[qn];
    e.prev = f.tail;
    (f.tail ? E (f.tail).next : f.head) = p;
    f.tail = p;
    arm (qn);
    p->xmit (qn);
  }

public:
  tmoq () {}
  tmoq (const tmoq &) = delete;
  ~tmoq ()
  {
    for (fifo &f : q_)
      if (f.tmo)
        timecb_remove (f.tmo);
  }
  void start (T *p) { enqueue (p, 0, sfs_get_timenow (true)); }
  void keeptrying (T *p)
  {
    if (E (p).qno < maxsend)
      unlink (p);
    enqueue (p, maxsend - 1, sfs_get_timenow (true));
  }
  void remove (T *p)
  {
    if (E (p).qno < maxsend) {
      unlink (p);
      E (p).qno = maxsend;
    }
  }
};

#endif
