// vec.h's growth hooks (vec_resizer_t, set_vec_resizer, vec_obj_id_t), in the shape sfslite's
// own vec test used them: a resizer with its own rounding, and an element type given an id.
#include "async.h"

#include <gtest/gtest.h>

#include <vector>

namespace {
struct tagged {
  int v = 0;
};
}  // namespace

// A program names its vecs' element types for the resizer by specialising vec_obj_id_t.
template<>
struct vec_obj_id_t<tagged> {
  vec_obj_id_t () {}
  int operator() () const { return 7; }
};

namespace {

struct call {
  u_int nalloc, nwanted;
  int objid;
};

// Grows to a multiple of 10 (never a power of two, so its answers are recognisable), or answers
// too little on request, to see the vec protect itself.
class tens_resizer : public vec_resizer_t {
public:
  std::vector<call> *calls;
  bool too_small = false;
  explicit tens_resizer (std::vector<call> *c) : calls (c) {}
  size_t resize (u_int nalloc, u_int nwanted, int objid) override
  {
    calls->push_back ({nalloc, nwanted, objid});
    return too_small ? 1 : (nwanted / 10 + 1) * 10;
  }
};

TEST (async_vec_resizer, default_growth_is_the_power_of_two_above)
{
  EXPECT_EQ (vec_resize_fn (0, 1, 0), 2u);
  EXPECT_EQ (vec_resize_fn (4, 5, 0), 8u);
  EXPECT_EQ (vec_resize_fn (8, 9, 0), 16u);
  EXPECT_EQ (vec_resize_fn (16, 3, 0), 32u);
  vec<int> v;
  for (int i = 0; i < 100; i++)
    v.push_back (i);
  for (int i = 99; i >= 0; i--)
    EXPECT_EQ (v.pop_back (), i);
}

TEST (async_vec_resizer, an_installed_resizer_decides_and_sees_the_object_id)
{
  std::vector<call> calls;
  auto *r = New tens_resizer (&calls);
  set_vec_resizer (r);

  vec<tagged> t;
  for (int i = 0; i < 25; i++)
    t.push_back ().v = i;
  vec<int> plain;
  plain.push_back (1);

  set_vec_resizer (NULL);  // deletes r; back to the default

  ASSERT_GE (calls.size (), 4u);
  // 1 -> 10, 11 -> 20, 21 -> 30 for the tagged vec, then one call for the int vec.
  EXPECT_EQ (calls[0].nalloc, 0u);
  EXPECT_EQ (calls[0].nwanted, 1u);
  EXPECT_EQ (calls[0].objid, 7);
  EXPECT_EQ (calls[1].nalloc, 10u);
  EXPECT_EQ (calls[1].nwanted, 11u);
  EXPECT_EQ (calls[2].nalloc, 20u);
  EXPECT_EQ (calls.back ().objid, 0);  // vec_obj_id_t's default
  for (int i = 0; i < 25; i++)
    EXPECT_EQ (t[i].v, i);
}

TEST (async_vec_resizer, an_answer_below_what_is_wanted_is_raised)
{
  std::vector<call> calls;
  auto *r = New tens_resizer (&calls);
  r->too_small = true;
  set_vec_resizer (r);
  vec<int> v;
  for (int i = 0; i < 50; i++)
    v.push_back (i);  // a capacity of 1 each time would overrun; ASan would see it
  set_vec_resizer (NULL);
  ASSERT_EQ (v.size (), 50u);
  EXPECT_EQ (v[49], 49);
  EXPECT_EQ (calls.size (), 50u);  // raised to exactly what was wanted: one element at a time
}

}  // namespace
