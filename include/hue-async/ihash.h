// ihash.h — libasync's intrusive hash table: the element carries its key and its links, so
// inserting allocates nothing and an element can be found, then removed, in O(1).
//
//   struct conn {
//     int fd;
//     ihash_entry<conn> hlink;
//   };
//   ihash<int, conn, &conn::fd, &conn::hlink> byfd;
//   byfd.insert (c);            // c is a conn*; the table does not own it
//   conn *x = byfd[fd];         // NULL when absent
//   byfd.remove (x);
//   for (conn *c = byfd.first (); c; c = byfd.next (c)) ...
//
// Keys may repeat: operator[] gives the first element with the key, nextkeq the following ones.
// An element must be removed before it is destroyed or inserted in the same table again (not
// checked, as in libasync). Not synchronised; one table belongs to one color.
//
// Hand-written rather than a std::unordered_multimap because intrusiveness is the point: programs
// embed ihash_entry in their objects and rely on insertion never allocating or copying.
#ifndef _IHASH_H_
#define _IHASH_H_ 1

#include "callback.h"
#include "keyfunc.h"
#include "vec.h"  // libasync's ihash.h pulled vec in; programs use vec after including only this

#include <vector>

template<class T>
struct ihash_entry {
  T *next = nullptr;
  T **pprev = nullptr;  // the pointer that points at this element (bucket head or a next)
  hash_t val = 0;
};

template<class T, ihash_entry<T> T::*field>
class ihash_core {
  std::vector<T *> tab_;
  size_t entries_ = 0;

  static ihash_entry<T> &ent (T *e) { return e->*field; }
  static const ihash_entry<T> &ent (const T *e) { return e->*field; }
  T **bucket (hash_t h) const { return const_cast<T **> (&tab_[h % tab_.size ()]); }
  void link (T *e) {
    T **head = bucket (ent (e).val);
    ent (e).next = *head;
    ent (e).pprev = head;
    if (*head)
      ent (*head).pprev = &ent (e).next;
    *head = e;
  }
  // Rehash into about twice as many buckets (odd counts spread poorly-mixed keys better).
  void grow () {
    std::vector<T *> old;
    old.swap (tab_);
    tab_.assign (old.empty () ? 31 : old.size () * 2 + 1, nullptr);
    for (T *head : old)
      while (head) {
        T *nx = ent (head).next;
        link (head);
        head = nx;
      }
  }

public:
  ihash_core () = default;
  ihash_core (const ihash_core &) = delete;
  ihash_core &operator= (const ihash_core &) = delete;

  bool insert_val (T *elm, hash_t hval) {
    if (entries_ >= tab_.size ())
      grow ();
    ent (elm).val = hval;
    link (elm);
    entries_++;
    return true;
  }
  void remove (T *elm) {
    ihash_entry<T> &e = ent (elm);
    if (e.next)
      ent (e.next).pprev = e.pprev;
    *e.pprev = e.next;
    e.next = nullptr;
    e.pprev = nullptr;
    entries_--;
  }
  // The first element whose hash is hval, then the following ones (callers compare keys).
  T *lookup_val (hash_t hval) const {
    if (tab_.empty ())
      return nullptr;
    T *e = *bucket (hval);
    while (e && ent (e).val != hval)
      e = ent (e).next;
    return e;
  }
  static T *next_val (T *elm) {
    hash_t h = ent (elm).val;
    T *e = ent (elm).next;
    while (e && ent (e).val != h)
      e = ent (e).next;
    return e;
  }

  size_t size () const { return entries_; }
  size_t buckets () const { return tab_.size (); }
  bool constructed () const { return true; }
  void reserve (size_t n) { while (tab_.size () < n) grow (); }

  // Iteration in table order. Removing the current element is allowed if next() is taken first.
  T *first () const {
    for (T *head : tab_)
      if (head)
        return head;
    return nullptr;
  }
  T *next (const T *n) const {
    if (T *nx = ent (n).next)
      return nx;
    for (size_t b = ent (n).val % tab_.size () + 1; b < tab_.size (); b++)
      if (tab_[b])
        return tab_[b];
    return nullptr;
  }
  // Forgets every element (does not delete them).
  void clear () {
    for (T *e = first (); e;) {
      T *nx = next (e);
      ent (e).next = nullptr;
      ent (e).pprev = nullptr;
      e = nx;
    }
    tab_.clear ();
    entries_ = 0;
  }
  // Removes and deletes every element.
  // One pass over the buckets (restarting from first () after each delete would be quadratic).
  void deleteall () {
    for (T *&head : tab_)
      while (T *e = head) {
        remove (e);
        delete e;
      }
  }
  // Calls cb on each element; cb may remove (even delete) the element it is given.
  void traverse (typename callback<void, T *>::ref cb) {
    for (T *e = first (); e;) {
      T *nx = next (e);
      (*cb) (e);
      e = nx;
    }
  }
  void traverse (void (T::*fn) ()) {
    for (T *e = first (); e;) {
      T *nx = next (e);
      (e->*fn) ();
      e = nx;
    }
  }
};

template<class K, class V, K V::*key, ihash_entry<V> V::*field, class H = hashfn<K>,
         class E = equals<K>>
class ihash : public ihash_core<V, field> {
  const E eq;
  const H hash;

public:
  ihash () : eq (E ()), hash (H ()) {}
  ihash (const E &e, const H &h) : eq (e), hash (h) {}
  bool insert (V *elm) { return this->insert_val (elm, hash (elm->*key)); }
  V *operator[] (const K &k) const {
    V *v = this->lookup_val (hash (k));
    while (v && !eq (v->*key, k))
      v = this->next_val (v);
    return v;
  }
  // The next element after v with an equal key.
  V *nextkeq (V *v) {
    const K &k = v->*key;
    do
      v = this->next_val (v);
    while (v && !eq (v->*key, k));
    return v;
  }
};

#endif
