// rctree.h — libasync's rctree_t: an ordered tree of reference-counted values. The tree holds a
// ptr<V> to each value it contains (a value lives at least as long as it is in the tree) and a
// small node of its own per value, found from the value through its rctree_entry_t member.
//
//   struct dat { int d; rctree_entry_t<dat> lnk; dat (int x) : d (x) {} };
//   rctree_t<int, dat, &dat::lnk> t;
//   t.insert (5, New refcounted<dat> (5));
//   ptr<dat> p = t[5];                  // the first value inserted under key 5, or NULL
//   t.remove (p);                       // the tree drops its reference
//
// Semantics kept from libasync: equal keys are allowed (t[k] finds the first of them, as
// itree.h's operator[]); up/left/right walk the tree's shape and min_postorder/next_postorder
// walk it children first, all from a value; clear () (and the destructor) removes every value.
// Differences: a value inserted twice, or destroyed while in a tree, panics with a message
// (libasync asserted); search () calls its callback with each node's value, which libasync's
// could not compile (it passed the node where the value was expected).
//
// Hazards: one rctree_entry_t puts a value in one tree at a time. Not synchronised: one tree
// belongs to one color at a time.
#ifndef _ASYNC_RCTREE_H_INCLUDED_
#define _ASYNC_RCTREE_H_INCLUDED_ 1

#include "err.h"
#include "itree.h"
#include "refcnt.h"

// The member of V that finds V's node in the tree that holds it.
template<class V>
class rctree_entry_t {
  void *node_ = nullptr;

public:
  rctree_entry_t () = default;
  rctree_entry_t (const rctree_entry_t &) {}  // a copy of a value is in no tree
  rctree_entry_t &operator= (const rctree_entry_t &) { return *this; }
  ~rctree_entry_t ()
  {
    if (node_)
      panic ("rctree_entry_t: a value was destroyed while in a tree\n");
  }
  void put_in_list (void *n)
  {
    if (node_)
      panic ("rctree_entry_t: a value was inserted in a second tree (or twice)\n");
    node_ = n;
  }
  void *v_node () const { return node_; }
  void remove_from_tree () { node_ = nullptr; }
};

template<class K, class V, rctree_entry_t<V> V::*field>
class rctree_node_t {
  ptr<V> elm_;

public:
  const K _key;
  itree_entry<rctree_node_t> _lnk;

  rctree_node_t (const K &k, const ptr<V> &v) : elm_ (v), _key (k) { (v->*field).put_in_list (this); }
  ptr<V> elem () { return elm_; }
  ptr<const V> elem () const { return elm_; }
};

template<class K, class V, rctree_entry_t<V> V::*field, class C = compare<K>>
class rctree_t {
public:
  typedef rctree_node_t<K, V, field> mynode_t;
  typedef itree<const K, mynode_t, &mynode_t::_key, &mynode_t::_lnk, C> mytree_t;

private:
  mytree_t tree_;

  static mynode_t *node_of (const ptr<V> &v) { return static_cast<mynode_t *> ((v->*field).v_node ()); }
  static const mynode_t *node_of (const ptr<const V> &v)
  {
    return static_cast<const mynode_t *> ((v->*field).v_node ());
  }
  template<class P, class Step>
  static P step (const P &v, Step s)
  {
    P r;
    if (v)
      if (auto *n = node_of (v))
        if (auto *m = s (n))
          r = m->elem ();
    return r;
  }

public:
  rctree_t () {}
  rctree_t (const rctree_t &) = delete;
  rctree_t &operator= (const rctree_t &) = delete;
  ~rctree_t () { clear (); }

  ptr<V> root ()
  {
    ptr<V> r;
    if (mynode_t *n = tree_.root ())
      r = n->elem ();
    return r;
  }

  static ptr<V> up (ptr<V> v) { return step (v, [] (mynode_t *n) { return mytree_t::up (n); }); }
  static ptr<const V> up (ptr<const V> v)
  {
    return step (v, [] (const mynode_t *n) { return mytree_t::up (n); });
  }
  static ptr<V> left (ptr<V> v) { return step (v, [] (mynode_t *n) { return mytree_t::left (n); }); }
  static ptr<const V> left (ptr<const V> v)
  {
    return step (v, [] (const mynode_t *n) { return mytree_t::left (n); });
  }
  static ptr<V> right (ptr<V> v)
  {
    return step (v, [] (mynode_t *n) { return mytree_t::right (n); });
  }
  static ptr<const V> right (ptr<const V> v)
  {
    return step (v, [] (const mynode_t *n) { return mytree_t::right (n); });
  }
  // Children before parents, from the subtree's first such value.
  static ptr<V> min_postorder (ptr<V> v)
  {
    return step (v, [] (mynode_t *n) { return mytree_t::min_postorder (n); });
  }
  static ptr<V> next_postorder (ptr<V> v)
  {
    return step (v, [] (mynode_t *n) { return mytree_t::next_postorder (n); });
  }
  static ptr<const V> next_postorder (ptr<const V> v)
  {
    return step (v, [] (const mynode_t *n) { return mytree_t::next_postorder (n); });
  }

  void insert (const K &k, ptr<V> v) { tree_.insert (New mynode_t (k, v)); }

  void remove (ptr<V> v)
  {
    mynode_t *n = node_of (v);
    if (!n)
      panic ("rctree_t::remove: the value is in no tree\n");
    tree_.remove (n);
    (v->*field).remove_from_tree ();
    delete n;  // drops the tree's reference; the caller's v keeps the value alive until here
  }

  void clear ()
  {
    mynode_t *nn;
    for (mynode_t *n = tree_.min_postorder (tree_.root ()); n; n = nn) {
      nn = mytree_t::next_postorder (n);
      (n->elem ()->*field).remove_from_tree ();
      delete n;
    }
    tree_.clear ();
  }

  ptr<V> operator[] (const K &k)
  {
    ptr<V> r;
    if (mynode_t *n = tree_[k])
      r = n->elem ();
    return r;
  }
  ptr<const V> operator[] (const K &k) const
  {
    ptr<const V> r;
    if (const mynode_t *n = tree_[k])
      r = n->elem ();
    return r;
  }

  // fn (value): < 0 to go left, > 0 to go right, 0 for a match (the first match in order).
  ptr<V> search (typename callback<int, ptr<V>>::ref fn) const
  {
    ptr<V> r;
    mynode_t *n = tree_.search (mkcallback<int, const mynode_t *> (
      [fn] (const mynode_t *m) { return (*fn) (const_cast<mynode_t *> (m)->elem ()); }));
    if (n)
      r = n->elem ();
    return r;
  }
};

#endif
