// itree.h: libasync's intrusive red-black tree. Order, equal keys kept in insertion order,
// libasync's lookups (operator[], lower_bound, and upper_bound's "last <= k" meaning), removal
// during traversal, and the red-black invariants checked after every step of a random run held
// against std::multimap.
#include "itree.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

namespace {

struct rec {
  int key;
  int seq;  // insertion order, to see where equal keys go
  itree_entry<rec> link;
  rec (int k, int s) : key (k), seq (s) {}
};
typedef itree<int, rec, &rec::key, &rec::link> rec_tree;

std::vector<std::pair<int, int>>
walk (const rec_tree &t)
{
  std::vector<std::pair<int, int>> out;
  for (rec *r = t.first (); r; r = t.next (r))
    out.push_back ({r->key, r->seq});
  return out;
}

TEST (async_itree, random_inserts_and_removes_keep_order_balance_and_stability)
{
  std::mt19937 rng (12345);
  rec_tree t;
  std::vector<std::unique_ptr<rec>> live;
  std::multimap<int, int> model;  // multimap keeps equal keys in insertion order too
  int seq = 0;
  for (int step = 0; step < 4000; step++) {
    if (live.empty () || rng () % 3 != 0) {
      auto r = std::make_unique<rec> (int (rng () % 50), seq++);
      t.insert (r.get ());
      model.insert ({r->key, r->seq});
      live.push_back (std::move (r));
    } else {
      size_t i = rng () % live.size ();
      t.remove (live[i].get ());
      for (auto it = model.lower_bound (live[i]->key); it != model.end (); ++it)
        if (it->second == live[i]->seq) {
          model.erase (it);
          break;
        }
      live.erase (live.begin () + i);
    }
    ASSERT_GE (t.check (), 0) << "red-black invariant broken at step " << step;
  }
  std::vector<std::pair<int, int>> expect (model.begin (), model.end ());
  EXPECT_EQ (walk (t), expect);
  // Backwards too.
  std::vector<std::pair<int, int>> back;
  rec *last = t.first ();
  while (last && t.next (last))
    last = t.next (last);
  for (rec *r = last; r; r = t.prev (r))
    back.insert (back.begin (), {r->key, r->seq});
  EXPECT_EQ (back, expect);
  t.clear ();  // the records belong to `live`
}

TEST (async_itree, lookups_find_the_first_of_equal_keys_and_libasync_bounds)
{
  rec_tree t;
  rec a (10, 0), b (20, 1), c (20, 2), d (30, 3);
  for (rec *r : {&d, &b, &a, &c})
    t.insert (r);
  EXPECT_EQ (t[20], &b);  // b went in before c
  EXPECT_EQ (t[25], nullptr);
  EXPECT_EQ (t.lower_bound (15), &b);  // first with key >= 15
  EXPECT_EQ (t.lower_bound (20), &b);
  EXPECT_EQ (t.lower_bound (31), nullptr);
  EXPECT_EQ (t.upper_bound (25), &c);  // libasync: the last with key <= 25
  EXPECT_EQ (t.upper_bound (20), &c);
  EXPECT_EQ (t.upper_bound (5), nullptr);
  const rec_tree &ct = t;
  EXPECT_EQ (ct[30], &d);
  t.remove (&b);
  EXPECT_EQ (t[20], &c);
  EXPECT_EQ (b.link.up (), nullptr);  // a removed record's links are cleared
  t.clear ();
}

void
drop_odd (rec_tree *t, rec *r)
{
  if (r->key % 2)
    t->remove (r);
}

TEST (async_itree, traverse_lets_the_callback_remove_its_record)
{
  rec_tree t;
  std::vector<std::unique_ptr<rec>> rs;
  for (int i = 0; i < 20; i++) {
    rs.push_back (std::make_unique<rec> (i, i));
    t.insert (rs.back ().get ());
  }
  t.traverse (wrap (drop_odd, &t));
  ASSERT_GE (t.check (), 0);
  int n = 0;
  for (rec *r = t.first (); r; r = t.next (r), n++)
    EXPECT_EQ (r->key % 2, 0);
  EXPECT_EQ (n, 10);
  t.clear ();
}

struct counted {
  static int alive;
  int v;
  itree_entry<counted> link;
  explicit counted (int x) : v (x) { alive++; }
  ~counted () { alive--; }
  bool operator< (const counted &o) const { return v < o.v; }
};
int counted::alive;

int
find_v (const int *want, const void *, const counted *n)
{
  return *want < n->v ? -1 : *want > n->v ? 1 : 0;
}

// itree_core orders whole records with compare<T> (here through operator<); deleteall frees.
TEST (async_itree, core_tree_on_whole_records_and_deleteall)
{
  itree_core<counted, &counted::link> t;
  for (int i : {5, 3, 8, 1, 4, 7, 9})
    t.insert (New counted (i));
  EXPECT_EQ (counted::alive, 7);
  EXPECT_EQ (t.first ()->v, 1);
  int want = 7;
  counted *seven = t.search<int, void> (find_v, &want, nullptr);
  ASSERT_NE (seven, nullptr);
  EXPECT_EQ (seven->v, 7);
  int visited = 0;
  for (counted *n = t.min_postorder (t.root ()); n; n = t.next_postorder (n))
    visited++;
  EXPECT_EQ (visited, 7);
  t.deleteall ();
  EXPECT_EQ (counted::alive, 0);
  EXPECT_EQ (t.root (), nullptr);
}

}  // namespace
