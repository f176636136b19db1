// callback.h — libasync's callbacks: callback<R, B1, B2, B3> and wrap().
//
// A callback is a reference-counted function object taking 0 to 3 "call-time" arguments B1..B3.
// wrap() makes one from a function or a method plus up to 5 "bound" arguments given now; the call
// passes the bound arguments first, then the call-time ones:
//
//   void done (str who, int status);
//   callback<void, int>::ref cb = wrap (done, str ("alice"));
//   (*cb) (0);  cb (0);  cb->trigger (0);            // three ways to call: done ("alice", 0)
//
//   struct server { void accept (int fd); };
//   cbv c = wrap (this, &server::accept, fd);        // method on a raw C*: no reference kept
//   cbv d = wrap (mkref (this), &server::accept, fd);// on ref<C>/ptr<C>: keeps the object alive
//
// Bound arguments are copied into the callback when wrap() runs (a later change to the variable
// is not seen), stored as the parameter's own type when it can be built from the argument: a
// `const char *` bound to a `str` parameter becomes a str at wrap time, so no dangling buffer.
// Wrapping a `refcounted<C> *` (what New returns) takes a reference, so
// `wrap (New refcounted<C>, &C::m)` neither leaks nor dangles.
//
// Unlike libasync's generated header this one is variadic underneath; the spellings are the same.
// A callback object is not synchronised: calling one callback from two colors at once is the
// caller's race, as calling any function object would be. Copying refs to it is safe (refcnt.h).
//
// Include guard: the macro each original header defines, because programs test it
// (`#ifdef _CALLBACK_H_INCLUDED_` around code that needs callbacks). SFS 0.8 named it
// _CALLBACK_H_INCLUDED_, sfslite from 2007 _CALLBACK1_H_INCLUDED_; both are defined.
#ifndef _CALLBACK_H_INCLUDED_
#define _CALLBACK_H_INCLUDED_ 1
#define _CALLBACK1_H_INCLUDED_ 1

#include "refcnt.h"

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

template<class R, class B1 = void, class B2 = void, class B3 = void> class callback;

namespace hue_async_detail {

// The abstract call interface for 0..3 call-time argument types.
template<class R, class... B>
class callback_iface {
public:
  virtual R operator() (B... b) = 0;
  // libasync: trigger() calls and ignores the result, so a callback<int> can stand where only
  // the side effect matters.
  virtual void trigger (B... b) { (void) (*this) (std::forward<B> (b)...); }
  virtual ~callback_iface () = default;
};

// callback type for an argument list: callback_for<R, int, str>::type == callback<R, int, str>.
template<class R, class... B> struct callback_for {
  static_assert (sizeof...(B) <= 3, "libasync callbacks take at most 3 call-time arguments");
};
template<class R> struct callback_for<R> { using type = callback<R>; };
template<class R, class B1> struct callback_for<R, B1> { using type = callback<R, B1>; };
template<class R, class B1, class B2> struct callback_for<R, B1, B2> {
  using type = callback<R, B1, B2>;
};
template<class R, class B1, class B2, class B3> struct callback_for<R, B1, B2, B3> {
  using type = callback<R, B1, B2, B3>;
};

}  // namespace hue_async_detail

template<class R, class B1, class B2, class B3>
class callback : public hue_async_detail::callback_iface<R, B1, B2, B3> {
public:
  typedef ::ref<callback> ref;
  typedef ::ptr<callback> ptr;
  using result_type = R;
  using args = std::tuple<B1, B2, B3>;
};
template<class R>
class callback<R, void, void, void> : public hue_async_detail::callback_iface<R> {
public:
  typedef ::ref<callback> ref;
  typedef ::ptr<callback> ptr;
  using result_type = R;
  using args = std::tuple<>;
};
template<class R, class B1>
class callback<R, B1, void, void> : public hue_async_detail::callback_iface<R, B1> {
public:
  typedef ::ref<callback> ref;
  typedef ::ptr<callback> ptr;
  using result_type = R;
  using args = std::tuple<B1>;
};
template<class R, class B1, class B2>
class callback<R, B1, B2, void> : public hue_async_detail::callback_iface<R, B1, B2> {
public:
  typedef ::ref<callback> ref;
  typedef ::ptr<callback> ptr;
  using result_type = R;
  using args = std::tuple<B1, B2>;
};

namespace hue_async_detail {

template<class... T> struct type_list {};

// Splits a parameter list after its first N types: the bound part and the call-time part.
template<size_t N, class List> struct split_at;
template<size_t N, class... P> struct split_at<N, type_list<P...>> {
  static_assert (N <= sizeof...(P), "wrap: more bound arguments than the function has parameters");
  static constexpr size_t nb = N <= sizeof...(P) ? N : sizeof...(P);
  template<size_t... I>
  static type_list<std::tuple_element_t<I, std::tuple<P...>>...> take (std::index_sequence<I...>);
  template<size_t... I>
  static type_list<std::tuple_element_t<nb + I, std::tuple<P...>>...> drop (std::index_sequence<I...>);
  using bound = decltype (take (std::make_index_sequence<nb> {}));
  using call = decltype (drop (std::make_index_sequence<sizeof...(P) - nb> {}));
};

// How a bound argument is stored: as the parameter's type when that can be built from the
// argument (copied or converted at wrap time), else as the argument's own decayed type (an
// abstract parameter type bound from a derived object, say).
template<class P, class A>
using stored_t = std::conditional_t<
  std::is_constructible_v<std::decay_t<P>, A &&> && !std::is_abstract_v<std::decay_t<P>>,
  std::decay_t<P>, std::decay_t<A>>;

template<class Params, class Args> struct stored_tuple;
template<class... P, class... A> struct stored_tuple<type_list<P...>, type_list<A...>> {
  using type = std::tuple<stored_t<P, A>...>;
};

// The closure wrap() allocates: the target, its bound arguments, the call-time signature.
template<class Cb, class R, class F, class Stored, class CallArgs> class closure;
template<class Cb, class R, class F, class Stored, class... B>
class closure<Cb, R, F, Stored, type_list<B...>> : public Cb {
  F f_;
  Stored bound_;

public:
  template<class... A>
  explicit closure (F f, A &&...a) : f_ (std::move (f)), bound_ (std::forward<A> (a)...) {}
  R operator() (B... b) override {
    return std::apply (
      [&] (auto &...a) -> R { return std::invoke (f_, a..., std::forward<B> (b)...); }, bound_);
  }
};

template<class R, class... B> using callback_t = typename callback_for<R, B...>::type;

template<class Cb, class R, class F, class Stored, class CallArgs, class... A>
inline typename Cb::ref
make_closure (F f, A &&...a)
{
  return New refcounted<closure<Cb, R, F, Stored, CallArgs>> (std::move (f), std::forward<A> (a)...);
}

template<class R, class Params, size_t NBound, class BoundArgs> struct wrap_types;
template<class R, class... P, size_t NBound, class... A>
struct wrap_types<R, type_list<P...>, NBound, type_list<A...>> {
  using split = split_at<NBound, type_list<P...>>;
  using stored = typename stored_tuple<typename split::bound, type_list<A...>>::type;
  template<class> struct cb_of;
  template<class... B> struct cb_of<type_list<B...>> { using type = callback_t<R, B...>; };
  using cb = typename cb_of<typename split::call>::type;
  using call = typename split::call;
};

// How wrap() holds the object of a method: refs and ptrs as they are (the object stays alive),
// refcounted<C>* as a ref (it came from New and nobody else may own it yet), plain pointers as
// plain pointers (no reference: libasync's rule, the program keeps the object alive).
template<class C, class O> struct object_holder {
  using type = C *;
};
template<class C, class U> struct object_holder<C, ::ref<U>> { using type = ::ref<U>; };
template<class C, class U> struct object_holder<C, ::ptr<U>> { using type = ::ptr<U>; };
template<class C, class O>
  requires std::is_base_of_v<refcounted_tag, std::remove_pointer_t<O>> && std::is_pointer_v<O>
struct object_holder<C, O> { using type = ::ref<C>; };

template<class T> struct is_callback : std::false_type {};
template<class R, class B1, class B2, class B3>
struct is_callback<callback<R, B1, B2, B3>> : std::true_type {};

template<class Tuple> struct tuple_types;
template<class... B> struct tuple_types<std::tuple<B...>> { using type = type_list<B...>; };

// Calls a member function through whatever holds the object.
template<class M> struct method_caller {
  M m;
  template<class O, class... A> decltype (auto) operator() (O &o, A &&...a) {
    return ((*o).*m) (std::forward<A> (a)...);
  }
};
// Calls through a held callback ref.
struct callback_caller {
  template<class Cb, class... A> decltype (auto) operator() (Cb &cb, A &&...a) {
    return (*cb) (std::forward<A> (a)...);
  }
};

}  // namespace hue_async_detail

// wrap (f, a1..a5): a free (or static) function.
template<class R, class... P, class... A>
inline auto
wrap (R (*f) (P...), A &&...a)
{
  using wt = hue_async_detail::wrap_types<R, hue_async_detail::type_list<P...>, sizeof...(A),
                                          hue_async_detail::type_list<A...>>;
  return hue_async_detail::make_closure<typename wt::cb, R, R (*) (P...), typename wt::stored,
                                        typename wt::call> (f, std::forward<A> (a)...);
}

namespace hue_async_detail {
template<class R, class C, class M, class O, class... P, class... A>
inline auto
wrap_method (O &&obj, M m, type_list<P...>, A &&...a)
{
  using holder = typename object_holder<C, std::decay_t<O>>::type;
  using wt = wrap_types<R, type_list<P...>, sizeof...(A), type_list<A...>>;
  using stored = decltype (std::tuple_cat (std::declval<std::tuple<holder>> (),
                                           std::declval<typename wt::stored> ()));
  return make_closure<typename wt::cb, R, method_caller<M>, stored, typename wt::call> (
    method_caller<M> {m}, holder (std::forward<O> (obj)), std::forward<A> (a)...);
}
}  // namespace hue_async_detail

// wrap (obj, &C::m, a1..a5): obj is a C*, ref<C>, ptr<C> or refcounted<C>* (or of a class
// derived from C).
template<class O, class R, class C, class... P, class... A>
inline auto
wrap (O &&obj, R (C::*m) (P...), A &&...a)
{
  return hue_async_detail::wrap_method<R, C> (std::forward<O> (obj), m,
                                              hue_async_detail::type_list<P...> {},
                                              std::forward<A> (a)...);
}
template<class O, class R, class C, class... P, class... A>
inline auto
wrap (O &&obj, R (C::*m) (P...) const, A &&...a)
{
  return hue_async_detail::wrap_method<R, const C> (std::forward<O> (obj), m,
                                                    hue_async_detail::type_list<P...> {},
                                                    std::forward<A> (a)...);
}

// wrap (cb, a1..): binds the first call-time arguments of an existing callback.
template<class Cb, class... A>
  requires hue_async_detail::is_callback<Cb>::value
inline auto
wrap (const ref<Cb> &cb, A &&...a)
{
  using R = typename Cb::result_type;
  using params = typename hue_async_detail::tuple_types<typename Cb::args>::type;
  using wt = hue_async_detail::wrap_types<R, params, sizeof...(A),
                                          hue_async_detail::type_list<A...>>;
  using stored = decltype (std::tuple_cat (std::declval<std::tuple<ref<Cb>>> (),
                                           std::declval<typename wt::stored> ()));
  return hue_async_detail::make_closure<typename wt::cb, R, hue_async_detail::callback_caller,
                                        stored, typename wt::call> (
    hue_async_detail::callback_caller {}, cb, std::forward<A> (a)...);
}
template<class Cb, class... A>
  requires hue_async_detail::is_callback<Cb>::value
inline auto
wrap (const ptr<Cb> &cb, A &&...a)
{
  if (!cb)
    refcnt_null_panic ("wrap() of a null callback");
  return wrap (ref<Cb> (cb), std::forward<A> (a)...);
}

// Not in libasync, for code written here (the event loop's own closures, colored wrappers): a
// callback from any function object, with the call-time signature spelled out.
//   callback<void, int>::ref cb = mkcallback<void, int> ([&] (int x) { ... });
template<class R, class... B, class F>
inline typename hue_async_detail::callback_t<R, B...>::ref
mkcallback (F f)
{
  using cb = hue_async_detail::callback_t<R, B...>;
  return hue_async_detail::make_closure<cb, R, F, std::tuple<>, hue_async_detail::type_list<B...>> (
    std::move (f));
}

#endif
