// refcnt.h — libasync's reference-counted objects: refcounted<T>, ref<T>, ptr<T>, mkref.
//
// An object is allocated together with its count (`New refcounted<T> (args)`) and handed around
// as ref<T> (never null) or ptr<T> (may be null). When the last ref/ptr goes away the object's
// finalize() runs; by default that deletes it. A class that wants to see the moment (a stream that
// flushes before dying, say), or to call mkref(this), derives from `virtual refcount` and may
// declare its own `void finalize ()`:
//
//   struct conn : public virtual refcount {
//     void finalize () { flush (); delete this; }   // optional
//     callback<void>::ref later () { return wrap (mkref (this), &conn::tick); }
//   };
//   ref<conn> c = New refcounted<conn> (fd);
//   ptr<conn> none = NULL;
//
// Thread safety: counts are std::atomic, because a ref may be copied in one color's callback and
// dropped in another's (libasync-smp's problem; libasync had plain ints). Increments are relaxed
// (a new ref is made from an existing one, so the object is already visible); the decrement that
// reaches zero is acq_rel so every write made through other refs happens before finalize().
// A single ref/ptr *variable* is not safe to assign from two colors at once, like a shared_ptr.
// What the atomics cost the uncolored case: microbench/refcnt_atomic.cpp.
#ifndef _REFCNT_H_INCLUDED_
#define _REFCNT_H_INCLUDED_ 1

#include "sysconf.h"

#include <atomic>
#include <cstdint>
#include <type_traits>

template<class T> class ref;
template<class T> class ptr;
enum reftype { scalar, vsize, vbase };
template<class T, reftype = scalar> class refcounted;
template<class T> ref<T> mkref (T *);

void refcnt_null_panic (const char *what) __attribute__ ((noreturn));  // lib/async/refcnt.cpp

// The count, shared by every refcounted<T> as a virtual base so that a class deriving from
// `virtual refcount` and the refcounted<> wrapper around it see one and the same counter.
class refcount {
  std::atomic<uint32_t> refcount_cnt_ {0};
  // Implemented by refcounted<T>: it calls T's finalize() when T has one, refcount's otherwise.
  virtual void refcount_call_finalize () = 0;
  template<class U> friend class ref;
  template<class U> friend class ptr;

protected:
  void finalize () { delete this; }

public:
  refcount () = default;
  // Copying an object must not copy its count: the copy is a new object with no refs yet.
  refcount (const refcount &) : refcount_cnt_ (0) {}
  refcount &operator= (const refcount &) { return *this; }
  virtual ~refcount () = default;

  void refcount_inc () { refcount_cnt_.fetch_add (1, std::memory_order_relaxed); }
  void refcount_dec () {
    if (refcount_cnt_.fetch_sub (1, std::memory_order_acq_rel) == 1)
      refcount_call_finalize ();
  }
  uint32_t refcount_getcnt () const { return refcount_cnt_.load (std::memory_order_relaxed); }
};

namespace hue_async_detail {
// refcounted<int> works in libasync: a non-class T is held in a small struct that converts to it.
template<class T, bool = std::is_class_v<T>> struct holder : public T {
  template<class... A> explicit holder (A &&...a) : T (std::forward<A> (a)...) {}
  T *get_obj () { return this; }
};
template<class T> struct holder<T, false> {
  T v {};
  holder () = default;
  template<class A> explicit holder (A &&a) : v (std::forward<A> (a)) {}
  T *get_obj () { return &v; }
  operator T &() { return v; }
  operator const T &() const { return v; }
};
struct refcounted_tag {};  // marks refcounted<> so wrap() can keep such objects alive
}  // namespace hue_async_detail

// scalar (the default): T's own finalize() runs at zero when T derives from `virtual refcount`
// and declares one; otherwise the object is deleted. (libasync rejected a T with an unrelated
// finalize() and no refcount base at compile time; here such a finalize is simply not called.)
template<class T>
class refcounted<T, scalar> : public hue_async_detail::holder<T>,
                              public virtual refcount,
                              public hue_async_detail::refcounted_tag {
  // Qualified through T, so T's own finalize is the one found when T declares it (it hides
  // refcount's), refcount's otherwise. An unqualified or this-> call is not enough: GCC binds it
  // to the non-dependent base refcount when the template is parsed and T's is never called.
  void refcount_call_finalize () override {
    if constexpr (std::is_base_of_v<refcount, T>)
      this->T::finalize ();
    else
      refcount::finalize ();
  }

public:
  template<class... A> explicit refcounted (A &&...a)
    : hue_async_detail::holder<T> (std::forward<A> (a)...) {}
  T *refcounted_obj () { return this->get_obj (); }
};

// vbase: always deleted at zero, never through T's finalize (libasync's choice for classes whose
// finalize() means something else).
template<class T>
class refcounted<T, vbase> : public hue_async_detail::holder<T>,
                             public virtual refcount,
                             public hue_async_detail::refcounted_tag {
  void refcount_call_finalize () override { delete this; }

public:
  template<class... A> explicit refcounted (A &&...a)
    : hue_async_detail::holder<T> (std::forward<A> (a)...) {}
  T *refcounted_obj () { return this->get_obj (); }
};

// What ref<T> and ptr<T> share: the object pointer and the count it belongs to. Implicit
// conversion to T* is libasync's: `if (p)`, `p == NULL`, `p->x`, passing to a T* parameter.
template<class T>
class refptr_base {
protected:
  T *p = nullptr;
  refcount *c = nullptr;
  template<class U> friend class ref;
  template<class U> friend class ptr;
  template<class U> friend class refptr_base;

  void inc () const { if (c) c->refcount_inc (); }
  void dec () const { if (c) c->refcount_dec (); }
  template<class U, reftype v> void set (refcounted<U, v> *pp) {
    p = pp ? pp->refcounted_obj () : nullptr;
    c = pp;
  }

public:
  operator T *() const { return p; }
  T *operator-> () const { return p; }
  template<class U = T> requires (!std::is_void_v<U>) U &operator* () const { return *p; }
  T *get () const { return p; }
  // `cb (args)` on a callback ref, besides libasync's `(*cb) (args)`.
  template<class... A>
  decltype (auto) operator() (A &&...a) const
    requires requires (T &t) { t (std::forward<A> (a)...); }
  { return (*p) (std::forward<A> (a)...); }
};

template<class T>
class ref : public refptr_base<T> {
  using refptr_base<T>::p;
  using refptr_base<T>::c;
  template<class U> friend class ref;
  template<class U> friend class ptr;
  friend ref<T> mkref<T> (T *);
  ref (T *pp, refcount *cc) { p = pp; c = cc; this->inc (); }

public:
  typedef ::ptr<T> ptr;

  template<class U, reftype v> ref (refcounted<U, v> *pp) {
    if (!pp)
      refcnt_null_panic ("ref<> made from a null refcounted<> pointer");
    this->set (pp);
    this->inc ();
  }
  ref (const ref &r) { p = r.p; c = r.c; this->inc (); }
  template<class U> requires std::is_convertible_v<U *, T *>
  ref (const ref<U> &r) { p = r.p; c = r.c; this->inc (); }
  // Moving saves an atomic increment and decrement (wrap's closures are built from temporaries).
  // The moved-from ref is empty and may only be destroyed or assigned to; the compiler moves
  // only from objects about to die, so only an explicit std::move can expose that state, and
  // libasync-era code has none.
  ref (ref &&r) noexcept { p = r.p; c = r.c; r.p = nullptr; r.c = nullptr; }
  template<class U> requires std::is_convertible_v<U *, T *>
  ref (ref<U> &&r) noexcept { p = r.p; c = r.c; r.p = nullptr; r.c = nullptr; }
  // A ptr can become a ref only when it is not null (checked: a null ref would break the type's
  // one promise). Implicit, as in libasync: `ref<T> r = p;` and passing a ptr where a ref is
  // taken are common in its programs; the check makes a null there a panic, not a null ref.
  template<class U> requires std::is_convertible_v<U *, T *>
  ref (const ::ptr<U> &r) {
    if (!r.p)
      refcnt_null_panic ("ref<> made from a null ptr<>");
    p = r.p; c = r.c; this->inc ();
  }
  ~ref () { this->dec (); }

  ref &operator= (const ref &r) { r.inc (); this->dec (); p = r.p; c = r.c; return *this; }
  ref &operator= (ref &&r) noexcept {
    if (this != &r) {
      this->dec ();
      p = r.p; c = r.c; r.p = nullptr; r.c = nullptr;
    }
    return *this;
  }
  template<class U> requires std::is_convertible_v<U *, T *>
  ref &operator= (const ref<U> &r) { r.inc (); this->dec (); p = r.p; c = r.c; return *this; }
  template<class U> requires std::is_convertible_v<U *, T *>
  ref &operator= (const ::ptr<U> &r) {
    if (!r.p)
      refcnt_null_panic ("null ptr<> assigned to a ref<>");
    r.inc (); this->dec (); p = r.p; c = r.c; return *this;
  }
  template<class U, reftype v> ref &operator= (refcounted<U, v> *pp) { return *this = ref (pp); }
};

template<class T>
class ptr : public refptr_base<T> {
  using refptr_base<T>::p;
  using refptr_base<T>::c;
  template<class U> friend class ref;
  template<class U> friend class ptr;

public:
  ptr () = default;
  ptr (std::nullptr_t) {}
  template<class U, reftype v> ptr (refcounted<U, v> *pp) { this->set (pp); this->inc (); }
  ptr (const ptr &r) { p = r.p; c = r.c; this->inc (); }
  ptr (ptr &&r) noexcept { p = r.p; c = r.c; r.p = nullptr; r.c = nullptr; }
  template<class U> requires std::is_convertible_v<U *, T *>
  ptr (const ptr<U> &r) { p = r.p; c = r.c; this->inc (); }
  template<class U> requires std::is_convertible_v<U *, T *>
  ptr (const ref<U> &r) { p = r.p; c = r.c; this->inc (); }
  template<class U> requires std::is_convertible_v<U *, T *>
  ptr (ref<U> &&r) noexcept { p = r.p; c = r.c; r.p = nullptr; r.c = nullptr; }
  ~ptr () { this->dec (); }

  ptr &operator= (std::nullptr_t) { this->dec (); p = nullptr; c = nullptr; return *this; }
  ptr &operator= (const ptr &r) { r.inc (); this->dec (); p = r.p; c = r.c; return *this; }
  ptr &operator= (ptr &&r) noexcept {
    if (this != &r) {
      this->dec ();
      p = r.p; c = r.c; r.p = nullptr; r.c = nullptr;
    }
    return *this;
  }
  template<class U> requires std::is_convertible_v<U *, T *>
  ptr &operator= (const ptr<U> &r) { r.inc (); this->dec (); p = r.p; c = r.c; return *this; }
  template<class U> requires std::is_convertible_v<U *, T *>
  ptr &operator= (const ref<U> &r) { r.inc (); this->dec (); p = r.p; c = r.c; return *this; }
  template<class U, reftype v> ptr &operator= (refcounted<U, v> *pp) { return *this = ptr (pp); }
};

// A ptr for globals. libasync needed a separate type to survive static-initialisation order;
// a constant-initialised ptr does that by itself.
template<class T> using bssptr = ptr<T>;

// mkref(this) inside a class that derives from `virtual refcount` and was allocated with
// New refcounted<...>: a new ref to the same count. On an object not so allocated it is an error
// the compiler cannot see (as in libasync); refcount's pure finalize hook makes such classes
// abstract, so `new T` alone does not compile.
template<class T>
inline ref<T>
mkref (T *p)
{
  if (!p)
    refcnt_null_panic ("mkref(NULL)");
  return ref<T> (p, static_cast<refcount *> (const_cast<std::remove_cv_t<T> *> (p)));
}
template<class T, reftype v>
inline ref<T>
mkref (refcounted<T, v> *p)
{
  return ref<T> (p);
}

#endif
