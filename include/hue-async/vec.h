// vec.h — libasync's growable array, vec<T>.
//
//   vec<str> words;
//   words.push_back ("a");
//   words.push_back () = "b";          // push_back () appends a default element, returns it
//   str first = words.pop_front ();    // O(1), unlike std::vector
//   for (size_t i = 0; i < words.size (); i++) use (words[i]);
//   for (str &w : words) use (w);
//
// Why not std::vector underneath: libasync programs use vec as a FIFO (push_back + pop_front)
// and rely on pop_front being O(1) and destroying the element at once, while also taking
// base () as a contiguous array. std::vector has no O(1) front removal and std::deque is not
// contiguous, so the buffer is managed here: live elements sit in [first, last) of one
// allocation; pop_front just advances first; growth moves them back to the start.
// The second template argument (libasync: inline capacity) is accepted and only reserves.
// Indexing is bounds-checked with assert, as libasync's CHECK_BOUNDS builds did.
//
// Growth policy (sfslite's resizer hooks): a vec that must reallocate asks vec_resize_fn for the
// new capacity, passing the old capacity, the number of elements wanted and vec_obj_id_t<T> ()
// (), an id a program specialises per element type to tell its vecs apart. Without a resizer the
// answer is libasync's, the power of two above max (nalloc, nwanted). A program installs its own
// policy with set_vec_resizer (New my_resizer_t), which owns and deletes the previous one.
// Hazards: set it at start-up, before other colors run (the resizer is called from every color's
// vec growth, and replacing it deletes the old one under any caller still inside it); a resizer
// must not itself grow a vec of an element type it is asked about (it would be re-entered). An
// answer smaller than nwanted is raised to nwanted, so a bad resizer costs copies, not memory
// safety.
#ifndef _VECTOR_H_INCLUDED_
#define _VECTOR_H_INCLUDED_ 1

#include "sysconf.h"
#include "msb.h"

#include <initializer_list>
#include <memory>
#include <new>
#include <utility>

class vec_resizer_t {
public:
  virtual ~vec_resizer_t () {}
  virtual size_t resize (u_int nalloc, u_int nwanted, int objid) = 0;
};
void set_vec_resizer (vec_resizer_t *v);
// The capacity a vec grows to: the resizer's answer (at least nwanted), or libasync's default.
size_t vec_resize_fn (u_int nalloc, u_int nwanted, int objid);

template<class T>
struct vec_obj_id_t {
  vec_obj_id_t () {}
  int operator() () const { return 0; }
};

template<class T, size_t N = 0>
class vec {
  T *basep_ = nullptr;   // the allocation
  T *firstp_ = nullptr;  // first live element
  T *lastp_ = nullptr;   // one past the last live element
  T *limp_ = nullptr;    // end of the allocation

  void release () {
    std::destroy (firstp_, lastp_);
    ::operator delete (basep_);
    basep_ = firstp_ = lastp_ = limp_ = nullptr;
  }
  // Room for n more elements at the end: first compacts to the front if that suffices and at
  // least half the buffer is dead, else moves everything into a buffer twice the size needed.
  void room (size_t n) {
    if (size_t (limp_ - lastp_) >= n)
      return;
    size_t live = size ();
    size_t cap = size_t (limp_ - basep_);
    T *nb;
    size_t ncap = cap;
    if (live + n <= cap && size_t (firstp_ - basep_) * 2 >= cap) {
      nb = basep_;
    } else {
      size_t want = live + n;
      // The resizer interface speaks u_int; a vec past 4G elements grows by doubling.
      if (want <= u_int (-1) && cap <= u_int (-1))
        ncap = vec_resize_fn (u_int (cap), u_int (want), vec_obj_id_t<T> () ());
      else
        ncap = want * 2;
      nb = static_cast<T *> (::operator new (ncap * sizeof (T)));
    }
    if (nb == basep_) {
      // Overlapping move towards the front: element by element, left to right.
      T *d = nb;
      for (T *s = firstp_; s < lastp_; ++s, ++d) {
        ::new (static_cast<void *> (d)) T (std::move (*s));
        s->~T ();
      }
    } else {
      std::uninitialized_move (firstp_, lastp_, nb);
      std::destroy (firstp_, lastp_);
      ::operator delete (basep_);
    }
    basep_ = firstp_ = nb;
    lastp_ = nb + live;
    limp_ = nb + ncap;
  }

  // Constructs the new last element (room already made); lastp_ moves only once it exists.
  template<class A> T &put (A &&a) {
    T *p = ::new (static_cast<void *> (lastp_)) T (std::forward<A> (a));
    ++lastp_;
    return *p;
  }

public:
  typedef T elm_t;
  typedef T value_type;
  typedef T *iterator;
  typedef const T *const_iterator;

  vec () { if (N) reserve (N); }
  vec (std::initializer_list<T> l) { for (const T &e : l) push_back (e); }
  vec (const vec &v) { append (v); }
  template<size_t M> vec (const vec<T, M> &v) { append (v); }
  vec (vec &&v) noexcept { swap (v); }
  ~vec () { release (); }
  vec &operator= (const vec &v) {
    if (this != &v) {
      clear ();
      append (v);
    }
    return *this;
  }
  template<size_t M> vec &operator= (const vec<T, M> &v) {
    clear ();
    append (v);
    return *this;
  }
  vec &operator= (vec &&v) noexcept { swap (v); return *this; }
  template<size_t M> vec &operator+= (const vec<T, M> &v) { append (v); return *this; }

  void swap (vec &v) noexcept {
    std::swap (basep_, v.basep_);
    std::swap (firstp_, v.firstp_);
    std::swap (lastp_, v.lastp_);
    std::swap (limp_, v.limp_);
  }
  void clear () { std::destroy (firstp_, lastp_); firstp_ = lastp_ = basep_; }
  void reserve (size_t n) { room (n); }
  void setsize (size_t n) {
    while (size () > n)
      pop_back ();
    room (n - size ());
    while (size () < n)
      push_back ();
  }
  template<size_t M> void append (const vec<T, M> &v) {
    room (v.size ());
    for (const T &e : v)
      push_back (e);
  }

  T *base () { return firstp_; }
  const T *base () const { return firstp_; }
  T *lim () { return lastp_; }
  const T *lim () const { return lastp_; }
  T *begin () { return firstp_; }
  const T *begin () const { return firstp_; }
  T *end () { return lastp_; }
  const T *end () const { return lastp_; }
  size_t size () const { return size_t (lastp_ - firstp_); }
  bool empty () const { return lastp_ == firstp_; }

  T &front () { assert (!empty ()); return *firstp_; }
  const T &front () const { assert (!empty ()); return *firstp_; }
  T &back () { assert (!empty ()); return lastp_[-1]; }
  const T &back () const { assert (!empty ()); return lastp_[-1]; }
  T &operator[] (ptrdiff_t i) { assert (i >= 0 && size_t (i) < size ()); return firstp_[i]; }
  const T &operator[] (ptrdiff_t i) const {
    assert (i >= 0 && size_t (i) < size ());
    return firstp_[i];
  }

  T &push_back () { room (1); return put (T ()); }
  T &push_back (const T &e) {
    if (&e >= firstp_ && &e < lastp_) {  // e lives in this vec and may move on growth
      T copy (e);
      room (1);
      return put (std::move (copy));
    }
    room (1);
    return put (e);
  }
  template<class... A> T &emplace_back (A &&...a) {
    T tmp (std::forward<A> (a)...);
    room (1);
    return put (std::move (tmp));
  }
  T pop_back () {
    assert (!empty ());
    T r (std::move (lastp_[-1]));
    (--lastp_)->~T ();
    return r;
  }
  void popn_back (size_t n) {
    assert (n <= size ());
    while (n--)
      (--lastp_)->~T ();
  }
  T pop_front () {
    assert (!empty ());
    T r (std::move (*firstp_));
    (firstp_++)->~T ();
    return r;
  }
  void popn_front (size_t n) {
    assert (n <= size ());
    while (n--)
      (firstp_++)->~T ();
  }
  void reverse () {
    for (T *l = firstp_, *r = lastp_; l < r && l < --r; ++l)
      std::swap (*l, *r);
  }
};

template<class T, size_t N>
inline void
swap (vec<T, N> &a, vec<T, N> &b) noexcept
{
  a.swap (b);
}

#endif
