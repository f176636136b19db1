// qhash.h — libasync's owning hash tables: qhash<K, V> (a map) and bhash<K> (a set).
//
//   qhash<str, int> ages;
//   ages.insert ("alice", 30);          // replaces the value when the key exists
//   if (int *a = ages["alice"]) ...      // a pointer to the stored value, NULL when absent
//   ages.remove ("alice");
//   qhash<int, ref<conn>> conns;  ptr<conn> c = conns[fd];   // ref values come back as ptr
//   bhash<str> seen;  seen.insert ("x");  if (seen["x"]) ...
//
// Built on ihash_core: each entry is one heap slot holding key, value and links. Keys need
// hashfn<K> and equals<K> (keyfunc.h; str, integers and pointers have them). Not synchronised.
#ifndef _QHASH_H_
#define _QHASH_H_ 1

#include "ihash.h"

template<class T> struct qhash_lookup_return {
  typedef T *type;
  typedef const T *const_type;
  static type ret (T *v) { return v; }
  static const_type const_ret (T *v) { return v; }
};
template<class T> struct qhash_lookup_return<ref<T>> {
  typedef ptr<T> type;
  typedef ptr<const T> const_type;
  static type ret (ref<T> *v) { if (v) return *v; return nullptr; }
  static const_type const_ret (ref<T> *v) { if (v) return *v; return nullptr; }
};

template<class K, class V> struct qhash_slot {
  const K key;
  V value;
  ihash_entry<qhash_slot> link;
  template<class A> qhash_slot (const K &k, A &&v) : key (k), value (std::forward<A> (v)) {}
};
template<class K> struct qhash_slot<K, void> {
  const K key;
  ihash_entry<qhash_slot> link;
  explicit qhash_slot (const K &k) : key (k) {}
};

template<class K, class V, class H = hashfn<K>, class E = equals<K>,
         class R = qhash_lookup_return<V>>
class qhash : public ihash_core<qhash_slot<K, V>, &qhash_slot<K, V>::link> {
public:
  typedef qhash_slot<K, V> slot;
  typedef ihash_core<slot, &slot::link> core;

protected:
  const E eq;
  const H hash;

  slot *getslot (const K &k) const {
    slot *s = this->lookup_val (hash (k));
    while (s && !eq (s->key, k))
      s = this->next_val (s);
    return s;
  }
  void delslot (slot *s) { core::remove (s); delete s; }

public:
  qhash () : eq (E ()), hash (H ()) {}
  qhash (const qhash &in) : eq (E ()), hash (H ()) { copy_from (in); }
  qhash &operator= (const qhash &in) {
    if (this != &in) {
      clear ();
      copy_from (in);
    }
    return *this;
  }
  ~qhash () { clear (); }
  void copy_from (const qhash &in) {
    for (slot *s = in.first (); s; s = in.next (s))
      insert (s->key, s->value);
  }
  void clear () { this->deleteall (); }

  void insert (const K &k) { insert (k, V ()); }
  void insert (const K &k, const V &v) {
    if (slot *s = getslot (k))
      s->value = v;
    else
      core::insert_val (new slot (k, v), hash (k));
  }
  void remove (const K &k) {
    if (slot *s = getslot (k))
      delslot (s);
  }
  bool remove (const K &k, V *v) {
    slot *s = getslot (k);
    if (!s)
      return false;
    *v = s->value;
    delslot (s);
    return true;
  }
  typename R::type operator[] (const K &k) {
    slot *s = getslot (k);
    return R::ret (s ? &s->value : nullptr);
  }
  typename R::const_type operator[] (const K &k) const {
    slot *s = getslot (k);
    return R::const_ret (s ? &s->value : nullptr);
  }
  bool lookup (const K &k, V *v) const {
    slot *s = getslot (k);
    if (s)
      *v = s->value;
    return s;
  }
  // cb (key, pointer to value) for every entry; cb may remove the entry it is given.
  void traverse (typename callback<void, const K &, typename R::type>::ref cb) {
    for (slot *s = this->first (); s;) {
      slot *nx = this->next (s);
      (*cb) (s->key, R::ret (&s->value));
      s = nx;
    }
  }
};

// Walks a qhash: next () returns a pointer to the next key (and copies its value to *val when
// given), NULL at the end. The table must not change during the walk, except removing the entry
// just returned.
template<class K, class V, class H = hashfn<K>, class E = equals<K>>
class qhash_const_iterator_t {
  typedef qhash_slot<K, V> slot;
  const qhash<K, V, H, E> &qh_;
  const slot *i_;

public:
  qhash_const_iterator_t (const qhash<K, V, H, E> &q) : qh_ (q), i_ (q.first ()) {}
  void reset () { i_ = qh_.first (); }
  const K *next (V *val = nullptr) {
    if (!i_)
      return nullptr;
    const slot *s = i_;
    i_ = qh_.next (s);
    if (val)
      *val = s->value;
    return &s->key;
  }
};
template<class K, class V, class H = hashfn<K>, class E = equals<K>>
class qhash_iterator_t {
  typedef qhash_slot<K, V> slot;
  qhash<K, V, H, E> &qh_;
  slot *i_;

public:
  qhash_iterator_t (qhash<K, V, H, E> &q) : qh_ (q), i_ (q.first ()) {}
  void reset () { i_ = qh_.first (); }
  const K *next (V *val = nullptr) {
    if (!i_)
      return nullptr;
    slot *s = i_;
    i_ = qh_.next (s);
    if (val)
      *val = s->value;
    return &s->key;
  }
};

template<class K, class H = hashfn<K>, class E = equals<K>>
class bhash : public ihash_core<qhash_slot<K, void>, &qhash_slot<K, void>::link> {
  typedef qhash_slot<K, void> slot;
  typedef ihash_core<slot, &slot::link> core;
  const E eq;
  const H hash;

  slot *getslot (const K &k) const {
    slot *s = this->lookup_val (hash (k));
    while (s && !eq (s->key, k))
      s = this->next_val (s);
    return s;
  }

public:
  bhash () : eq (E ()), hash (H ()) {}
  bhash (const bhash &in) : eq (E ()), hash (H ()) {
    for (slot *s = in.first (); s; s = in.next (s))
      insert (s->key);
  }
  ~bhash () { clear (); }
  void clear () { this->deleteall (); }
  // false when the key was already there.
  bool insert (const K &k) {
    if (getslot (k))
      return false;
    core::insert_val (new slot (k), hash (k));
    return true;
  }
  void remove (const K &k) {
    if (slot *s = getslot (k)) {
      core::remove (s);
      delete s;
    }
  }
  bool operator[] (const K &k) const { return getslot (k); }
  void traverse (typename callback<void, const K &>::ref cb) {
    for (slot *s = this->first (); s;) {
      slot *nx = this->next (s);
      (*cb) (s->key);
      s = nx;
    }
  }
};

#endif
