// What atomic reference counts cost a libasync program that never uses a second color.
//
// refcnt.h keeps counts in std::atomic (a ref may be copied in one color and dropped in another);
// libasync kept plain ints. This measures one ref copy + destruction (an increment and a
// decrement) with hue's ref<T>, next to the same operation on a plain-int intrusive count shaped
// like libasync's (the `plain_*` rows; the replica lives only in this file), and puts both next to
// what a program does per event anyway: wrap a method with a bound argument, call it, drop it.
// The `_contended` rows copy one shared ref from two threads (two colors touching one object).
//
//   build/release/microbench/refcnt_atomic --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include "callback.h"
#include "refcnt.h"

#include <benchmark/benchmark.h>

namespace {

struct payload : public virtual refcount {
  int v = 0;
  void bump (int n) { v += n; }
};

// libasync's shape with a plain counter: object + count + virtual finalize.
struct plain_count {
  int cnt = 0;
  virtual void finalize () { delete this; }
  virtual ~plain_count () = default;
};
struct plain_payload : plain_count {
  int v = 0;
};
struct plain_ref {
  plain_payload *p;
  explicit plain_ref (plain_payload *pp) : p (pp) { p->cnt++; }
  plain_ref (const plain_ref &r) : p (r.p) { p->cnt++; }
  ~plain_ref () { if (!--p->cnt) p->finalize (); }
};

void
atomic_ref_copy (benchmark::State &state)
{
  static ref<payload> shared = New refcounted<payload>;
  ref<payload> local = shared;
  for (auto _ : state) {
    ref<payload> copy = local;
    benchmark::DoNotOptimize (copy.get ());
    benchmark::ClobberMemory ();
  }
}
BENCHMARK (atomic_ref_copy);
BENCHMARK (atomic_ref_copy)->Name ("atomic_ref_copy_contended")->Threads (2)->UseRealTime ();

void
plain_ref_copy (benchmark::State &state)
{
  plain_ref local (new plain_payload);
  for (auto _ : state) {
    plain_ref copy = local;
    benchmark::DoNotOptimize (copy.p);
    benchmark::ClobberMemory ();
  }
}
BENCHMARK (plain_ref_copy);

// Per event: wrap (obj, &C::m, arg) allocates a closure holding a ref, the call runs, the last
// ref goes (three count operations on two objects, plus malloc/free).
void
wrap_call_drop (benchmark::State &state)
{
  ref<payload> obj = New refcounted<payload>;
  for (auto _ : state) {
    callback<void>::ref cb = wrap (obj, &payload::bump, 1);
    (*cb) ();
  }
  benchmark::DoNotOptimize (obj->v);
}
BENCHMARK (wrap_call_drop);

}  // namespace

BENCHMARK_MAIN ();
