// rctree.h: an ordered tree of reference-counted values. The first case has the shape of sfslite's
// tests/test_rctree.C, which did not build on hue before rctree.h existed (the corpus run,
// tools/async-corpus, found it): values made with New refcounted, inserted under repeated keys,
// found again by key.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "async.h"
#include "rctree.h"

namespace {

int live;  // values alive

struct dat_t {
  dat_t (int d) : _d (d) { ++live; }
  ~dat_t () { --live; }
  static ptr<dat_t> alloc (int i) { return New refcounted<dat_t> (i); }
  const int _d;
  int to_int () const { return _d; }
  rctree_entry_t<dat_t> _lnk;
};

template<class T> void insert (T *t, int v) { t->insert (v, dat_t::alloc (v)); }

TEST (async_rctree, test_rctree_shape_repeated_keys_found_by_key)
{
  {
    rctree_t<int, dat_t, &dat_t::_lnk> tree;
    int vals[] = {1, 1, 2, 3, 4, 5, 10, 12, 20, 120, 200, 300, 12, 12, 12, -1};
    for (int *vp = vals; *vp >= 0; vp++)
      insert (&tree, *vp);
    for (int *vp = vals; *vp >= 0; vp++)
      EXPECT_EQ (tree[*vp]->to_int (), *vp);
    EXPECT_FALSE (tree[7]);
    EXPECT_EQ (live, 15);  // the tree's references keep them alive
  }
  EXPECT_EQ (live, 0);  // the destructor cleared it
}

TEST (async_rctree, remove_walks_and_search)
{
  rctree_t<int, dat_t, &dat_t::_lnk> tree;
  std::vector<ptr<dat_t>> kept;
  for (int i = 0; i < 50; i++) {
    kept.push_back (dat_t::alloc ((i * 7) % 50));
    tree.insert (kept.back ()->to_int (), kept.back ());
  }
  // Postorder from the root's first value visits every value once, the root last.
  std::set<int> seen;
  ptr<dat_t> r = tree.root ();
  ASSERT_TRUE (r);
  ptr<dat_t> last;
  for (ptr<dat_t> p = tree.min_postorder (r); p; p = tree.next_postorder (p)) {
    EXPECT_TRUE (seen.insert (p->to_int ()).second);
    last = p;
  }
  EXPECT_EQ (seen.size (), 50u);
  EXPECT_EQ (last.get (), r.get ());
  // up/left/right follow the shape: a child's parent is the value it came from.
  if (ptr<dat_t> l = tree.left (r)) {
    EXPECT_EQ (tree.up (l).get (), r.get ());
    EXPECT_LT (l->to_int (), r->to_int ());
  }
  if (ptr<dat_t> rr = tree.right (r))
    EXPECT_GT (rr->to_int (), r->to_int ());
  EXPECT_FALSE (tree.up (r));

  ptr<dat_t> f = tree.search (mkcallback<int, ptr<dat_t>> (
    [] (ptr<dat_t> v) { return 33 < v->to_int () ? -1 : 33 > v->to_int () ? 1 : 0; }));
  ASSERT_TRUE (f);
  EXPECT_EQ (f->to_int (), 33);

  ptr<dat_t> x = tree[33];
  tree.remove (x);
  EXPECT_FALSE (tree[33]);
  tree.insert (33, x);  // removed values may go back in
  EXPECT_EQ (tree[33].get (), x.get ());
  tree.clear ();
  EXPECT_FALSE (tree.root ());
  EXPECT_FALSE (tree[5]);
  kept.clear ();
  x = nullptr;
  f = nullptr;
  r = nullptr;
  last = nullptr;
  EXPECT_EQ (live, 0);
}

TEST (async_rctree, inserting_a_value_twice_panics)
{
  rctree_t<int, dat_t, &dat_t::_lnk> tree;
  ptr<dat_t> v = dat_t::alloc (1);
  tree.insert (1, v);
  EXPECT_DEATH (tree.insert (2, v), "second tree");
}

}  // namespace
