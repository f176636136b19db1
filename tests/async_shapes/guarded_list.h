// A header in the shape of programs that used libasync optionally (a skip list, a sorted set):
// the container is plain C++, and the one method that takes a callback is compiled only when
// callback.h was included first, found out through the guard macro libasync's callback.h
// defines. With a guard of another name the method silently disappears and its callers fail to
// build, which is the regression this pins.
#ifndef GUARDED_LIST_H
#define GUARDED_LIST_H

template<class T>
class guarded_list {
  T items_[16];
  int n_ = 0;

public:
  bool insert (const T &t)
  {
    if (n_ == 16)
      return false;
    int i = n_++;
    for (; i > 0 && t < items_[i - 1]; i--)
      items_[i] = items_[i - 1];
    items_[i] = t;
    return true;
  }
  int size () const { return n_; }
#ifdef _CALLBACK_H_INCLUDED_
  // In order, smallest first.
  void traverse (typename callback<void, T>::ref cb) const
  {
    for (int i = 0; i < n_; i++)
      (*cb) (items_[i]);
  }
#endif
};

#endif
