// itree.h — libasync's intrusive ordered tree (a red-black tree whose links live inside the
// records): itree_entry<T> is the link member, itree_core orders records with a three-way compare
// of whole records, and itree<K, V, &V::key, &V::link> orders them by one field.
//
//   struct job {
//     int when;
//     itree_entry<job> link;
//   };
//   itree<int, job, &job::when, &job::link> q;
//   q.insert (j);                         // no allocation: j's own link is threaded in
//   for (job *p = q.first (); p; p = q.next (p)) run (p);   // in order of `when`
//   job *at5 = q[5];                      // the first record whose key is 5, or NULL
//   q.remove (j);                         // j is unlinked, not deleted
//
// Semantics kept from libasync: equal keys are allowed, and a record inserted later sits after
// the equal ones already there; q[k] and search () find the first of equal records. lower_bound
// (k) is the first record with key >= k; upper_bound (k), unlike std::upper_bound, is the *last*
// record with key <= k (libasync's meaning). traverse () reads the next record before calling,
// so the callback may remove (or delete) the record it is given. The tree never owns records:
// deleteall () deletes each with `delete`, the rest only unlink. Lookups are O(log n).
//
// Hazards: a record must be removed before it is destroyed, and must not be in two trees through
// one itree_entry; changing a record's key while it is in the tree breaks the order (remove,
// change, insert). Not synchronised: one tree belongs to one color at a time.
//
// The balancing code is type-erased (lib/async/itree.cpp): records are passed as void *, and the
// tree hands it a function that finds a record's links, so no field offset is ever computed.
#ifndef _ITREE_H_
#define _ITREE_H_ 1

#include "callback.h"
#include "keyfunc.h"

enum itree_color { INVALID, BLACK, RED };

// A record's links: the records above, left and right of it (NULL at the edges), as void *.
struct __itree_entry_private {
  void *rbe_up;
  void *rbe_left;
  void *rbe_right;
  itree_color rbe_color;
};

namespace hue_async_detail {
typedef __itree_entry_private *(*itree_links_fn) (void *record);
typedef int (*itree_cmp_fn) (void *arg, void *a, void *b);
void itree_insert (void **root, void *n, itree_links_fn links, itree_cmp_fn cmp, void *arg);
void itree_remove (void **root, void *n, itree_links_fn links);
void *itree_successor (void *n, itree_links_fn links);
void *itree_predecessor (void *n, itree_links_fn links);
// Red-black and order invariants of the whole tree; for tests. Returns the black height, or -1
// when an invariant is broken.
int itree_check (void *root, itree_links_fn links, itree_cmp_fn cmp, void *arg);
}  // namespace hue_async_detail

template<class T>
class itree_entry {
  __itree_entry_private p {nullptr, nullptr, nullptr, INVALID};
  template<class U, itree_entry<U> U::*field, class C> friend class itree_core;

public:
  T *up () const { return static_cast<T *> (p.rbe_up); }
  T *left () const { return static_cast<T *> (p.rbe_left); }
  T *right () const { return static_cast<T *> (p.rbe_right); }
};

template<class T, itree_entry<T> T::*field, class C = compare<T>>
class itree_core {
protected:
  void *rb_root;
  const C cmp;

  static __itree_entry_private *links (void *n) { return &(static_cast<T *> (n)->*field).p; }
  static int scmp (void *self, void *a, void *b)
  {
    return static_cast<itree_core *> (self)->cmp (*static_cast<T *> (a), *static_cast<T *> (b));
  }
  void deleteall_from (T *n)
  {
    if (n) {
      deleteall_from (left (n));
      deleteall_from (right (n));
      delete n;
    }
  }

public:
  itree_core () { clear (); }
  itree_core (const C &c) : cmp (c) { clear (); }
  itree_core (const itree_core &) = delete;  // the records' links point into one tree
  itree_core &operator= (const itree_core &) = delete;

  void clear () { rb_root = nullptr; }  // forgets every record (does not unlink or delete)
  void deleteall ()
  {
    deleteall_from (root ());
    clear ();
  }
  void deleteall_correct () { deleteall (); }  // libasync's second name for the same thing

  T *root () const { return static_cast<T *> (rb_root); }
  static T *up (const T *n) { return (n->*field).up (); }
  static T *left (const T *n) { return (n->*field).left (); }
  static T *right (const T *n) { return (n->*field).right (); }
  T *first () const
  {
    T *n = root ();
    while (n && left (n))
      n = left (n);
    return n;
  }
  static T *next (const T *n)
  {
    return static_cast<T *> (hue_async_detail::itree_successor (const_cast<T *> (n), links));
  }
  static T *prev (const T *n)
  {
    return static_cast<T *> (hue_async_detail::itree_predecessor (const_cast<T *> (n), links));
  }
  // Post-order walk (children before parents), for freeing a tree by hand.
  static T *min_postorder (T *n)
  {
    for (T *c; n && ((c = left (n)) || (c = right (n)));)
      n = c;
    return n;
  }
  static T *next_postorder (const T *n)
  {
    T *u = up (n), *r;
    if (u && (r = right (u)) && r != n)
      return min_postorder (r);
    return u;
  }

  void insert (T *n) { hue_async_detail::itree_insert (&rb_root, n, links, scmp, this); }
  void remove (T *n) { hue_async_detail::itree_remove (&rb_root, n, links); }

  // The first record for which cb answers 0; cb answers <0 when the wanted record is to the left.
  T *search (typename callback<int, const T *>::ref cb) const
  {
    return first_match ([&] (const T *n) { return (*cb) (n); });
  }
  template<class A1, class A2>
  T *search (int (*cb) (const A1 *, const A2 *, const T *), const A1 *a1, const A2 *a2) const
  {
    return first_match ([&] (const T *n) { return cb (a1, a2, n); });
  }
  template<class A1, class A2>
  T *lower_bound_impl (int (*cb) (const A1 *, const A2 *, const T *), const A1 *a1,
                       const A2 *a2) const
  {
    T *best = nullptr;
    for (T *n = root (); n;)
      if (cb (a1, a2, n) <= 0) {
        best = n;
        n = left (n);
      } else {
        n = right (n);
      }
    return best;
  }
  template<class A1, class A2>
  T *upper_bound_impl (int (*cb) (const A1 *, const A2 *, const T *), const A1 *a1,
                       const A2 *a2) const
  {
    T *best = nullptr;
    for (T *n = root (); n;)
      if (cb (a1, a2, n) >= 0) {
        best = n;
        n = right (n);
      } else {
        n = left (n);
      }
    return best;
  }

  void traverse (typename callback<void, T *>::ref cb)
  {
    for (T *n = first (), *nn; n; n = nn) {
      nn = next (n);
      (*cb) (n);
    }
  }
  void traverse (void (T::*fn) ())
  {
    for (T *n = first (), *nn; n; n = nn) {
      nn = next (n);
      (n->*fn) ();
    }
  }

  int check () const
  {
    return hue_async_detail::itree_check (rb_root, links, scmp, const_cast<itree_core *> (this));
  }

private:
  template<class F> T *first_match (F f) const
  {
    T *found = nullptr;
    for (T *n = root (); n;) {
      int r = f (n);
      if (r < 0) {
        n = left (n);
      } else if (r > 0) {
        n = right (n);
      } else {
        found = n;  // equal keys: keep going left for the first of them
        n = left (n);
      }
    }
    return found;
  }
};

template<class K, class V, K V::*key, itree_entry<V> V::*field, class C = compare<K>>
class itree : public itree_core<V, field, keyfunc_2<int, V, K, key, C>> {
  typedef keyfunc_2<int, V, K, key, C> cmp_t;
  typedef itree_core<V, field, cmp_t> core_t;
  const C kcmp;

  static int skvcmp (const C *c, const K *k, const V *v) { return (*c) (*k, v->*key); }

public:
  itree () {}
  itree (const C &c) : core_t (cmp_t (c)), kcmp (c) {}
  V *operator[] (const K &k) { return this->search (skvcmp, &kcmp, &k); }
  const V *operator[] (const K &k) const { return this->search (skvcmp, &kcmp, &k); }
  V *lower_bound (const K &k) const { return this->lower_bound_impl (skvcmp, &kcmp, &k); }
  V *upper_bound (const K &k) const { return this->upper_bound_impl (skvcmp, &kcmp, &k); }
};

#endif
