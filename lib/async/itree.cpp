// The red-black balancing behind itree.h, type-erased: records are void *, their links are found
// through the tree's links function. The algorithm is the textbook one (insert and delete with
// their recolour-and-rotate fix-ups), written for NULL leaves: where the textbook reads the parent
// of a nil leaf, the fix-up after a removal carries that parent separately (x_up below).
#include "itree.h"

namespace hue_async_detail {
namespace {

class tree {
  void **root_;
  itree_links_fn links_;

public:
  tree (void **root, itree_links_fn l) : root_ (root), links_ (l) {}

  void *&up (void *n) const { return links_ (n)->rbe_up; }
  void *&left (void *n) const { return links_ (n)->rbe_left; }
  void *&right (void *n) const { return links_ (n)->rbe_right; }
  itree_color &color (void *n) const { return links_ (n)->rbe_color; }
  bool black (void *n) const { return !n || color (n) == BLACK; }  // NULL leaves are black
  void *&root () const { return *root_; }

  // The link that points at n: the root, or its parent's left or right.
  void *&link_to (void *n) const
  {
    void *u = up (n);
    if (!u)
      return root ();
    return left (u) == n ? left (u) : right (u);
  }
  // x's right child takes x's place, x becomes its left child.
  void rotate_left (void *x) const
  {
    void *y = right (x);
    right (x) = left (y);
    if (left (y))
      up (left (y)) = x;
    link_to (x) = y;
    up (y) = up (x);
    left (y) = x;
    up (x) = y;
  }
  void rotate_right (void *x) const
  {
    void *y = left (x);
    left (x) = right (y);
    if (right (y))
      up (right (y)) = x;
    link_to (x) = y;
    up (y) = up (x);
    right (y) = x;
    up (x) = y;
  }
  // v (possibly NULL) takes u's place under u's parent.
  void transplant (void *u, void *v) const
  {
    link_to (u) = v;
    if (v)
      up (v) = up (u);
  }
  void *minimum (void *n) const
  {
    while (left (n))
      n = left (n);
    return n;
  }
  void *maximum (void *n) const
  {
    while (right (n))
      n = right (n);
    return n;
  }

  void insert_fixup (void *z) const;
  void remove_fixup (void *x, void *x_up) const;
  int check (void *n, void *parent, void **prev, itree_cmp_fn cmp, void *arg) const;
};

void
tree::insert_fixup (void *z) const
{
  // z is red; the only possible violation is a red parent. A red parent is never the root, so
  // the grandparent exists.
  while (z != root () && color (up (z)) == RED) {
    void *p = up (z);
    void *g = up (p);
    bool p_is_left = p == left (g);
    void *uncle = p_is_left ? right (g) : left (g);
    if (!black (uncle)) {
      // Red uncle: push the grandparent's blackness down and continue from it.
      color (p) = BLACK;
      color (uncle) = BLACK;
      color (g) = RED;
      z = g;
      continue;
    }
    if (p_is_left) {
      if (z == right (p)) {  // inner grandchild: rotate it outside first
        rotate_left (p);
        p = z;
      }
      color (p) = BLACK;
      color (g) = RED;
      rotate_right (g);
    } else {
      if (z == left (p)) {
        rotate_right (p);
        p = z;
      }
      color (p) = BLACK;
      color (g) = RED;
      rotate_left (g);
    }
    break;
  }
  color (root ()) = BLACK;
}

void
tree::remove_fixup (void *x, void *x_up) const
{
  // x (maybe a NULL leaf, whose parent is x_up) carries one extra black.
  while (x != root () && black (x)) {
    if (x == left (x_up)) {
      void *w = right (x_up);  // exists: x's side is one black short, so w's side is not empty
      if (color (w) == RED) {
        color (w) = BLACK;
        color (x_up) = RED;
        rotate_left (x_up);
        w = right (x_up);
      }
      if (black (left (w)) && black (right (w))) {
        color (w) = RED;
        x = x_up;
        x_up = up (x);
        continue;
      }
      if (black (right (w))) {
        color (left (w)) = BLACK;
        color (w) = RED;
        rotate_right (w);
        w = right (x_up);
      }
      color (w) = color (x_up);
      color (x_up) = BLACK;
      color (right (w)) = BLACK;
      rotate_left (x_up);
    } else {
      void *w = left (x_up);
      if (color (w) == RED) {
        color (w) = BLACK;
        color (x_up) = RED;
        rotate_right (x_up);
        w = left (x_up);
      }
      if (black (left (w)) && black (right (w))) {
        color (w) = RED;
        x = x_up;
        x_up = up (x);
        continue;
      }
      if (black (left (w))) {
        color (right (w)) = BLACK;
        color (w) = RED;
        rotate_left (w);
        w = left (x_up);
      }
      color (w) = color (x_up);
      color (x_up) = BLACK;
      color (left (w)) = BLACK;
      rotate_right (x_up);
    }
    x = root ();
  }
  if (x)
    color (x) = BLACK;
}

int
tree::check (void *n, void *parent, void **prev, itree_cmp_fn cmp, void *arg) const
{
  if (!n)
    return 1;
  if (up (n) != parent || (color (n) != RED && color (n) != BLACK))
    return -1;
  if (color (n) == RED && (!black (left (n)) || !black (right (n))))
    return -1;
  int lh = check (left (n), n, prev, cmp, arg);
  if (lh < 0)
    return -1;
  if (*prev && cmp (arg, *prev, n) > 0)  // in-order: never decreasing
    return -1;
  *prev = n;
  int rh = check (right (n), n, prev, cmp, arg);
  if (rh != lh)
    return -1;
  return lh + (color (n) == BLACK);
}

}  // namespace

void
itree_insert (void **root, void *n, itree_links_fn links, itree_cmp_fn cmp, void *arg)
{
  tree t (root, links);
  void *parent = nullptr;
  void **at = root;
  // Equal keys go right: a record inserted later sits after the equal ones already there.
  while (*at) {
    parent = *at;
    at = cmp (arg, n, parent) < 0 ? &t.left (parent) : &t.right (parent);
  }
  t.up (n) = parent;
  t.left (n) = t.right (n) = nullptr;
  t.color (n) = RED;
  *at = n;
  t.insert_fixup (n);
}

void
itree_remove (void **root, void *z, itree_links_fn links)
{
  tree t (root, links);
  itree_color removed = t.color (z);
  void *x, *x_up;
  if (!t.left (z)) {
    x = t.right (z);
    x_up = t.up (z);
    t.transplant (z, x);
  } else if (!t.right (z)) {
    x = t.left (z);
    x_up = t.up (z);
    t.transplant (z, x);
  } else {
    // Two children: z's successor y (no left child) is unlinked from its place and relinked
    // into z's, taking z's colour; records are never copied, only their links rewritten.
    void *y = t.minimum (t.right (z));
    removed = t.color (y);
    x = t.right (y);
    if (t.up (y) == z) {
      x_up = y;
    } else {
      x_up = t.up (y);
      t.transplant (y, x);
      t.right (y) = t.right (z);
      t.up (t.right (y)) = y;
    }
    t.transplant (z, y);
    t.left (y) = t.left (z);
    t.up (t.left (y)) = y;
    t.color (y) = t.color (z);
  }
  if (removed == BLACK)
    t.remove_fixup (x, x_up);
  // z is out: its stale links must not be followed (up () etc. now answer NULL).
  __itree_entry_private *l = links (z);
  l->rbe_up = l->rbe_left = l->rbe_right = nullptr;
  l->rbe_color = INVALID;
}

void *
itree_successor (void *n, itree_links_fn links)
{
  tree t (nullptr, links);
  if (t.right (n))
    return t.minimum (t.right (n));
  void *u = t.up (n);
  while (u && n == t.right (u)) {
    n = u;
    u = t.up (u);
  }
  return u;
}

void *
itree_predecessor (void *n, itree_links_fn links)
{
  tree t (nullptr, links);
  if (t.left (n))
    return t.maximum (t.left (n));
  void *u = t.up (n);
  while (u && n == t.left (u)) {
    n = u;
    u = t.up (u);
  }
  return u;
}

int
itree_check (void *root, itree_links_fn links, itree_cmp_fn cmp, void *arg)
{
  void *r = root;
  tree t (&r, links);
  if (root && t.color (root) != BLACK)
    return -1;
  void *prev = nullptr;
  return t.check (root, nullptr, &prev, cmp, arg);
}

}  // namespace hue_async_detail
